/**
 * The fetch stage on local repositories (and a fake HTTP client where a server's timing matters):
 * copying into the content-addressed cache, reuse and the stamp rule, hash and size mismatches that
 * leave the cache unchanged, partial files, the parallel limit, interruption, md5-only entries,
 * mirrors, offline, hostile entries, `cleanCache`. No network.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  DEFAULT_NETWORK,
  loadConfig,
  loadRepositories,
  PkgError,
  publishIndex,
  type HttpClient,
  type IndexEntry,
  type RepositoryConfig,
} from 'enpkg';
import type { Warning } from 'egginst';
import { main } from '../src/cli/main.js';
import type { DownloadRequest, DownloadResult } from '../src/http/client.js';
import { cachedEgg, cleanCache, fetchEggs, type FetchOptions, type FetchProgress, type FetchRequest } from '../src/fetch/index.js';
import { fixtureEgg, snapshot, tmp } from './repo-helpers.js';

const EGGS = ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg', 'data-1.0-1.egg'];

const sha256 = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

interface World {
  dir: string;
  repo: string;
  cache: string;
  config: string;
  entries: Map<string, IndexEntry>;
  repository: RepositoryConfig;
  warnings: Warning[];
  events: FetchProgress[];
  opts(extra?: Partial<FetchOptions>): FetchOptions;
  requests(...eggNames: string[]): FetchRequest[];
}

/** A local repository of fixture eggs, indexed; the index loaded; a fresh cache. */
async function world(t: { after(fn: () => unknown): void }, eggs = EGGS, extraConfig = ''): Promise<World> {
  const dir = tmp(t, 'enpkg-fetch-');
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  for (const e of eggs) copyFileSync(fixtureEgg(e), join(repo, e));
  await publishIndex(repo, { name: 'main' });
  const cache = join(dir, 'cache');
  const config = join(dir, 'config.yaml');
  writeFileSync(
    config,
    `cache_dir: ${JSON.stringify(cache)}\nrepositories:\n  - path: ${JSON.stringify(repo)}\n    name: main\n${extraConfig}`,
  );
  const [loaded] = await loadRepositories(loadConfig({ configFile: config, env: {} }));
  const entries = new Map(loaded!.index.entries.map((e) => [e.eggName, e] as const));
  const warnings: Warning[] = [];
  const events: FetchProgress[] = [];
  const w: World = {
    dir,
    repo,
    cache,
    config,
    entries,
    repository: loaded!.config,
    warnings,
    events,
    opts: (extra = {}) => ({
      cacheDir: cache,
      parallel: 4,
      network: DEFAULT_NETWORK,
      env: {},
      fsync: false,
      reporter: {
        report: (e) => {
          if (e.type === 'warning') warnings.push(e.warning);
          else if (e.type === 'download') events.push(e.progress);
        },
      },
      ...extra,
    }),
    requests: (...names) => names.map((n) => ({ entry: entries.get(n)!, repository: w.repository })),
  };
  return w;
}

async function rejects(p: Promise<unknown>, code: string, pattern?: RegExp): Promise<PkgError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PkgError, String(e));
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    assert.ok(e.hint, 'a hint');
    return e;
  }
  assert.fail(`expected ${code}`);
}

/** Every file under the cache, relative (partial files included). */
function cacheFiles(cache: string): string[] {
  return Object.keys(snapshot(cache)).sort();
}

/** The egg part of the cache (the index cache is beside it). */
const eggFiles = (cache: string): string[] => cacheFiles(cache).filter((f) => f.startsWith('eggs/'));

test('eggs from a local repository are copied into the content-addressed cache and verified', async (t) => {
  const w = await world(t);
  const got = await fetchEggs(w.requests('app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg'), w.opts({ fsync: true }));
  assert.deepEqual(
    got.map((g) => [g.key, g.eggName, g.cached]),
    [
      ['app', 'app-1.0.0-1.egg', false],
      ['libfoo', 'libfoo-1.0.0-1.egg', false],
    ],
  );
  for (const g of got) {
    const source = join(w.repo, g.eggName);
    assert.equal(g.sha256, sha256(source));
    assert.equal(g.path, join(w.cache, 'eggs', g.sha256.slice(0, 2), `${g.sha256}.egg`));
    assert.deepEqual(readFileSync(g.path), readFileSync(source));
    assert.equal(g.size, statSync(source).size);
  }
  const files = eggFiles(w.cache);
  assert.deepEqual(
    files,
    got.flatMap((g) => [`eggs/${g.sha256.slice(0, 2)}/${g.sha256}.egg`, `eggs/${g.sha256.slice(0, 2)}/${g.sha256}.egg.verified`]).sort(),
  );
  const last = w.events.at(-1)!;
  assert.deepEqual(
    {
      eggsDone: last.overall.eggsDone,
      eggsTotal: last.overall.eggsTotal,
      active: last.overall.active,
      bytes: last.overall.bytesDone === last.overall.bytesTotal,
    },
    { eggsDone: 2, eggsTotal: 2, active: 0, bytes: true },
  );
  assert.equal(
    last.overall.bytesTotal,
    got.reduce((n, g) => n + g.size, 0),
  );
  assert.deepEqual(
    new Set(w.events.filter((e) => e.egg.state === 'done').map((e) => e.egg.eggName)),
    new Set(['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg']),
  );
  assert.equal(cachedEgg(w.cache, got[0]!.sha256), got[0]!.path);
  assert.equal(cachedEgg(w.cache, '0'.repeat(64)), null);
});

test('cached eggs are reused without reading them, even after the repository dropped them', async (t) => {
  const w = await world(t);
  const [first] = await fetchEggs(w.requests('app-1.0.0-1.egg'), w.opts());
  const before = statSync(first!.path);
  rmSync(join(w.repo, 'app-1.0.0-1.egg'));
  w.events.length = 0;
  const [again] = await fetchEggs(w.requests('app-1.0.0-1.egg'), w.opts());
  assert.equal(again!.cached, true);
  assert.equal(again!.path, first!.path);
  assert.equal(statSync(again!.path).ino, before.ino, 'the same file, not a new copy');
  assert.deepEqual(
    w.events.map((e) => e.egg.state),
    ['cached'],
  );
  assert.equal(w.events[0]!.overall.bytesTotal, 0);
});

test('a cached egg without its stamp is hashed once; a changed one is removed and fetched again', async (t) => {
  const w = await world(t);
  const [first] = await fetchEggs(w.requests('libfoo-1.0.0-1.egg'), w.opts());
  // A cache copied from elsewhere: no stamps. Hashed, found good, stamped again.
  rmSync(`${first!.path}.verified`);
  const [verified] = await fetchEggs(w.requests('libfoo-1.0.0-1.egg'), w.opts());
  assert.equal(verified!.cached, true);
  assert.ok(w.events.some((e) => e.egg.state === 'verifying'));
  assert.ok(existsSync(`${first!.path}.verified`));
  // Same size, other bytes (a flipped byte): the identity no longer matches the stamp.
  const bytes = readFileSync(first!.path);
  bytes[bytes.length - 30] = bytes[bytes.length - 30]! ^ 0xff;
  writeFileSync(first!.path, bytes);
  assert.equal(cachedEgg(w.cache, first!.sha256), null, 'cachedEgg applies the same rule');
  writeFileSync(first!.path, bytes);
  const [refetched] = await fetchEggs(w.requests('libfoo-1.0.0-1.egg'), w.opts());
  assert.equal(refetched!.cached, false);
  assert.equal(sha256(refetched!.path), first!.sha256);
  assert.deepEqual(
    w.warnings.map((x) => x.code),
    ['CACHE_EGG_CORRUPT'],
  );
  // A cached file of the wrong size is not even hashed.
  writeFileSync(first!.path, 'short');
  const [again] = await fetchEggs(w.requests('libfoo-1.0.0-1.egg'), w.opts());
  assert.equal(again!.cached, false);
  assert.match(w.warnings.at(-1)!.message, /had 5 bytes instead of \d+/);
});

test('a hash mismatch names the egg, the repository and both hashes, and leaves the cache unchanged', async (t) => {
  const w = await world(t);
  await fetchEggs(w.requests('app-1.0.0-1.egg'), w.opts());
  const before = snapshot(w.cache);
  // The repository's file changed after it was indexed: same size, other bytes.
  const path = join(w.repo, 'libfoo-1.0.0-1.egg');
  const bytes = readFileSync(path);
  bytes[100] = bytes[100]! ^ 0x01;
  writeFileSync(path, bytes);
  const err = await rejects(fetchEggs(w.requests('libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg'), w.opts({ parallel: 1 })), 'EGG_HASH_MISMATCH');
  const expected = w.entries.get('libfoo-1.0.0-1.egg')!.sha256!;
  const actual = createHash('sha256').update(bytes).digest('hex');
  assert.equal(err.message, `libfoo-1.0.0-1.egg from repository main (${path}): sha256 mismatch: expected ${expected}, got ${actual}`);
  assert.deepEqual(err.details, { egg: 'libfoo-1.0.0-1.egg', repository: 'main', location: path, algorithm: 'sha256', expected, actual });
  assert.deepEqual(snapshot(w.cache), before, 'no partial file, nothing new (the failure stopped the rest)');
});

test('a size mismatch is refused before anything is written', async (t) => {
  const w = await world(t);
  const path = join(w.repo, 'app-1.0.0-1.egg');
  writeFileSync(path, Buffer.concat([readFileSync(path), Buffer.from('trailing junk')]));
  const size = w.entries.get('app-1.0.0-1.egg')!.size;
  const err = await rejects(
    fetchEggs(w.requests('app-1.0.0-1.egg'), w.opts()),
    'EGG_SIZE_MISMATCH',
    new RegExp(`size mismatch: expected ${size} bytes, got ${size + 13} bytes`),
  );
  assert.equal(err.details.repository, 'main');
  assert.deepEqual(eggFiles(w.cache), []);
});

/** Serves eggs from a directory like a server would, with hooks to hold or break a download. */
function fakeHttp(
  dir: string,
  hooks: { onChunk?: (url: string, sent: number) => Promise<void> | void; chunk?: number } = {},
): HttpClient & { max: number; urls: string[] } {
  let active = 0;
  const self = {
    max: 0,
    urls: [] as string[],
    async get(): Promise<never> {
      throw new Error('not used');
    },
    async download<T>(req: DownloadRequest<T>): Promise<DownloadResult<T>> {
      self.urls.push(req.url);
      active++;
      self.max = Math.max(self.max, active);
      try {
        const file = join(dir, new URL(req.url).pathname.split('/').pop()!);
        if (!existsSync(file)) return { status: 'not-found', url: req.url };
        const body = readFileSync(file);
        const sink = await req.open({ url: req.url, contentLength: body.length });
        const step = hooks.chunk ?? 4096;
        try {
          for (let off = 0; off < body.length; off += step) {
            if (req.signal?.aborted) throw new PkgError('INTERRUPTED', `${req.what}: interrupted`, { hint: 'again' });
            await sink.write(body.subarray(off, off + step));
            await hooks.onChunk?.(req.url, off + step);
            await new Promise((r) => setImmediate(r));
          }
        } catch (e) {
          await sink.abort();
          throw e;
        }
        return { status: 'ok', value: await sink.finish(), url: req.url };
      } finally {
        active--;
      }
    },
    async close() {},
  };
  return self;
}

function httpRepository(w: World, url = 'https://eggs.invalid/main/'): RepositoryConfig {
  return { ...w.repository, location: { kind: 'http', url }, mirrors: [] };
}

test('at most `parallel` eggs are fetched at once, under one progress stream', async (t) => {
  const names = [
    'app-1.0.0-1.egg',
    'app-1.1.0-1.egg',
    'libfoo-1.0.0-1.egg',
    'libfoo-1.1.0-1.egg',
    'libbar-2.0-1.egg',
    'data-1.0-1.egg',
    'links-1.0-1.egg',
    'skips-1.0-1.egg',
    'upg-1.0-1.egg',
    'upg-2.0-1.egg',
  ];
  const w = await world(t, names);
  const http = fakeHttp(w.repo, { chunk: 512 });
  const repository = httpRepository(w);
  const requests = names.map((n) => ({ entry: w.entries.get(n)!, repository }));
  const got = await fetchEggs(requests, w.opts({ parallel: 3, http }));
  assert.equal(got.length, 10);
  assert.equal(http.max, 3, 'three at once, never more');
  assert.ok(w.events.every((e) => e.overall.active <= 3));
  assert.ok(w.events.some((e) => e.overall.active === 3));
  const totals = w.events.map((e) => e.overall.bytesTotal);
  assert.equal(
    Math.max(...totals),
    got.reduce((n, g) => n + g.size, 0),
  );
  for (let i = 1; i < w.events.length; i++)
    assert.ok(w.events[i]!.overall.bytesDone >= w.events[i - 1]!.overall.bytesDone, 'overall progress never goes back');
  for (const g of got) assert.equal(sha256(g.path), w.entries.get(g.eggName)!.sha256);
});

test('an interrupted fetch stops every download and leaves no partial file', async (t) => {
  const w = await world(t);
  const controller = new AbortController();
  let chunks = 0;
  const http = fakeHttp(w.repo, {
    chunk: 64,
    onChunk: () => {
      if (++chunks === 10) controller.abort();
    },
  });
  const repository = httpRepository(w);
  const requests = EGGS.map((n) => ({ entry: w.entries.get(n)!, repository }));
  await rejects(fetchEggs(requests, w.opts({ http, signal: controller.signal })), 'INTERRUPTED', /interrupted while fetching eggs/);
  assert.deepEqual(
    cacheFiles(w.cache).filter((f) => f.endsWith('.partial') || f.endsWith('.egg')),
    [],
  );
});

test('a failure in one egg stops the others; eggs already verified stay cached', async (t) => {
  const w = await world(t);
  const http = fakeHttp(w.repo, { chunk: 256 });
  const repository = httpRepository(w);
  rmSync(join(w.repo, 'data-1.0-1.egg'));
  const requests = ['app-1.0.0-1.egg', 'data-1.0-1.egg'].map((n) => ({ entry: w.entries.get(n)!, repository }));
  await rejects(
    fetchEggs(requests, w.opts({ http, parallel: 1 })),
    'EGG_NOT_FOUND',
    /^data-1\.0-1\.egg from repository main \(https:\/\/eggs\.invalid\/main\/data-1\.0-1\.egg\): not found$/,
  );
  const files = cacheFiles(w.cache);
  assert.equal(files.filter((f) => f.endsWith('.egg')).length, 1, 'app stays');
  assert.equal(files.filter((f) => f.endsWith('.partial')).length, 0);
});

test('the same content under two names is fetched once', async (t) => {
  const w = await world(t);
  copyFileSync(join(w.repo, 'app-1.0.0-1.egg'), join(w.dir, 'copy.egg'));
  const app = w.entries.get('app-1.0.0-1.egg')!;
  const other = { ...app, repository: 'other' };
  const got = await fetchEggs(
    [
      { entry: app, repository: w.repository },
      { entry: other, repository: { ...w.repository, name: 'other' } },
    ],
    w.opts(),
  );
  assert.equal(got[0]!.path, got[1]!.path);
  assert.equal(w.events.filter((e) => e.egg.state === 'done').length, 1);
  assert.equal(w.events.at(-1)!.overall.eggsTotal, 1);
});

test('a legacy entry (md5 only) is verified by md5, with a warning', async (t) => {
  const w = await world(t);
  const app = w.entries.get('app-1.0.0-1.egg')!;
  const md5 = createHash('md5')
    .update(readFileSync(join(w.repo, app.eggName)))
    .digest('hex');
  const legacy: IndexEntry = { ...app, sha256: null, md5 };
  const [got] = await fetchEggs([{ entry: legacy, repository: w.repository }], w.opts());
  assert.equal(got!.sha256, app.sha256, 'the sha256 is computed');
  assert.equal(got!.path, join(w.cache, 'eggs', 'md5', md5.slice(0, 2), `${md5}.egg`));
  assert.deepEqual(
    w.warnings.map((x) => x.code),
    ['EGG_MD5_ONLY'],
  );
  const [again] = await fetchEggs([{ entry: legacy, repository: w.repository }], w.opts());
  assert.equal(again!.cached, true);
  const wrong: IndexEntry = { ...app, sha256: null, md5: 'f'.repeat(32) };
  await rejects(
    fetchEggs([{ entry: wrong, repository: w.repository }], w.opts()),
    'EGG_HASH_MISMATCH',
    new RegExp(`md5 mismatch: expected f{32}, got ${md5}`),
  );
});

test('a location without the egg fails over to the next mirror', async (t) => {
  const w = await world(t);
  const empty = join(w.dir, 'empty');
  mkdirSync(empty);
  const repository: RepositoryConfig = {
    ...w.repository,
    location: { kind: 'dir', path: empty },
    mirrors: [{ kind: 'dir', path: w.repo }],
  };
  const [got] = await fetchEggs([{ entry: w.entries.get('app-1.0.0-1.egg')!, repository }], w.opts());
  assert.equal(got!.cached, false);
  assert.deepEqual(
    w.warnings.map((x) => x.code),
    ['MIRROR_FAILOVER'],
  );
  assert.match(
    w.warnings[0]!.message,
    new RegExp(`app-1\\.0\\.0-1\\.egg from repository main \\(${empty}/app-1\\.0\\.0-1\\.egg\\): not found; trying mirror ${w.repo}`),
  );
});

test('offline: cached eggs and local repositories only', async (t) => {
  const w = await world(t);
  const http = fakeHttp(w.repo);
  const remote = httpRepository(w);
  await rejects(
    fetchEggs(
      [
        { entry: w.entries.get('app-1.0.0-1.egg')!, repository: remote },
        { entry: w.entries.get('libfoo-1.0.0-1.egg')!, repository: remote },
      ],
      w.opts({ http, offline: true }),
    ),
    'EGG_NOT_CACHED',
    /2 eggs are not in the egg cache .* --offline forbids downloading them: app-1\.0\.0-1\.egg, libfoo-1\.0\.0-1\.egg/,
  );
  assert.deepEqual(http.urls, []);
  await fetchEggs(w.requests('app-1.0.0-1.egg'), w.opts({ offline: true }));
  const [cached] = await fetchEggs([{ entry: w.entries.get('app-1.0.0-1.egg')!, repository: remote }], w.opts({ http, offline: true }));
  assert.equal(cached!.cached, true);
  assert.deepEqual(http.urls, []);
});

test('hostile index entries are refused before anything is fetched', async (t) => {
  const w = await world(t);
  const app = w.entries.get('app-1.0.0-1.egg')!;
  const cases: Array<[Partial<IndexEntry>, RegExp]> = [
    [{ eggName: '../app-1.0.0-1.egg' }, /not an egg file name/],
    [{ eggName: 'app-1.0.0-1.egg/../../x-1-1.egg' }, /not an egg file name/],
    [{ sha256: '../../etc/passwd' }, /sha256 is not 64 lower-case hex digits/],
    [{ sha256: null, md5: null }, /neither a sha256 nor an md5/],
    [{ size: -1 }, /not a byte count/],
  ];
  for (const [over, pattern] of cases) {
    await rejects(
      fetchEggs([{ entry: { ...app, ...over } as IndexEntry, repository: w.repository }], w.opts()),
      'EGG_ENTRY_INVALID',
      pattern,
    );
  }
  assert.deepEqual(eggFiles(w.cache), []);
});

test('cleanCache removes eggs, stamps and dead partial files; keeps what it is told and live downloads', async (t) => {
  const w = await world(t);
  const got = await fetchEggs(w.requests('app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg'), w.opts());
  await loadRepositories(loadConfig({ configFile: w.config, env: {} }));
  const bucket = dirname(got[0]!.path);
  const dead = `${got[0]!.path}.999999999-abcdef.partial`;
  const live = `${got[0]!.path}.${process.ppid}-abcdef.partial`;
  writeFileSync(dead, 'left by a crash');
  writeFileSync(live, 'still downloading');
  const eggBytes = got.slice(1).reduce((n, g) => n + g.size, 0);
  const r = await cleanCache(w.cache, { keep: new Set([got[0]!.sha256]) });
  assert.deepEqual({ ...r, bytes: r.bytes >= eggBytes + 15 }, { removed: 3, bytes: true, eggs: 2, partials: 1, indexFiles: 0, kept: 1 });
  assert.deepEqual(readdirSync(bucket).sort(), [`${got[0]!.sha256}.egg`, `${got[0]!.sha256}.egg.verified`, live.split('/').pop()!].sort());
  assert.equal(cachedEgg(w.cache, got[0]!.sha256), got[0]!.path, 'the kept egg is still trusted');
  rmSync(live);
  const all = await cleanCache(w.cache, { all: true });
  assert.equal(all.eggs, 1);
  assert.ok(all.indexFiles >= 2);
  assert.deepEqual(
    cacheFiles(w.cache).map((f) => f.replace(/^index\/[^/]+\//, 'index/*/')),
    ['index/*/serial.json'],
    'the accepted serial stays',
  );
  assert.deepEqual(await cleanCache(join(w.dir, 'nothing-here')), { removed: 0, bytes: 0, eggs: 0, partials: 0, indexFiles: 0, kept: 0 });
});

test('enpkg cache clean [--all] --json', async (t) => {
  const w = await world(t);
  const got = await fetchEggs(w.requests('app-1.0.0-1.egg', 'libbar-2.0-1.egg'), w.opts());
  const run = async (...args: string[]): Promise<{ code: number; out: string; err: string }> => {
    let out = '';
    let err = '';
    const code = await main(['cache', 'clean', '--config', w.config, ...args], { stdout: (s) => (out += s), stderr: (s) => (err += s) });
    return { code, out, err };
  };
  const eggs = await run('--json');
  assert.equal(eggs.code, 0, eggs.err);
  const bytes = got.reduce((n, g) => n + g.size, 0);
  const j = JSON.parse(eggs.out) as { ok: boolean; removed: number; bytes: number };
  assert.deepEqual({ ok: j.ok, removed: j.removed }, { ok: true, removed: 2 });
  assert.ok(j.bytes >= bytes && j.bytes < bytes + 1000, `${j.bytes} bytes: the eggs and their stamps`);
  assert.deepEqual(eggFiles(w.cache), []);
  const all = await run('--all');
  assert.equal(all.code, 0, all.err);
  const store = '0 store entries \\(0 still in use kept\\)';
  assert.match(
    all.out,
    new RegExp(`^removed 0 eggs, 0 partial downloads, ${store}, [1-9]\\d* index files from .* \\(\\d+(\\.\\d)? (B|KiB) freed\\)\n$`),
  );
});
