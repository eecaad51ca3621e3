/**
 * Downloading eggs over HTTPS from a real nginx on loopback (throwaway CA): verified into the
 * cache and reused, a 404 failing over to a mirror, a corrupted or resized egg refused (no mirror
 * tried after it, nothing left in the cache), credentials sent to the repository's origin only, a
 * connection lost mid-body retried from the start, an interrupt during a download.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig, loadRepositories, PkgError, type LoadedRepository, type NetworkSettings } from 'enpkg';
import type { Warning } from 'egginst';
// The fetch stage is not exported by enpkg's index yet: its types come from the referenced project,
// the module from the build.
import type * as FetchModule from '../packages/enpkg/src/fetch/index.js';
import { fixturePath, repoRoot, runEnpkg, tempDir } from './helpers/index.js';
import { startNginx, testCA, type Nginx } from './helpers/nginx.js';

type FetchProgress = FetchModule.FetchProgress;
const { fetchEggs } = (await import(
  pathToFileURL(join(repoRoot, 'packages', 'enpkg', 'dist', 'src', 'fetch', 'index.js')).href
)) as typeof FetchModule;

const EGGS = ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg', 'data-1.0-1.egg'];

interface World {
  dir: string;
  root: string;
  main: string;
  cache: string;
}

async function world(t: TestContext, extra: readonly string[] = []): Promise<World> {
  const dir = await tempDir(t, 'enpkg-fetch-http-');
  const root = join(dir, 'www');
  const main = join(root, 'main');
  mkdirSync(main, { recursive: true });
  for (const egg of [...EGGS, ...extra]) copyFileSync(fixturePath('eggs', egg), join(main, egg));
  const idx = await runEnpkg(['repo', 'index', main, '--name', 'main', '-q']);
  assert.equal(idx.code, 0, idx.stderr);
  return { dir, root, main, cache: join(dir, 'cache') };
}

/** A copy of the main repository's index (and the eggs named) under www/<name>/. */
function variant(w: World, name: string, eggs: readonly string[]): string {
  const dir = join(w.root, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(w.main, 'index.json.zst'), join(dir, 'index.json.zst'));
  for (const egg of eggs) copyFileSync(join(w.main, egg), join(dir, egg));
  return dir;
}

interface Loaded {
  readonly repo: LoadedRepository;
  readonly network: NetworkSettings;
}

/** A configuration with the test CA and short timeouts, and the repository's index loaded from it. */
async function load(w: World, nginx: Nginx, repository: string, env: NodeJS.ProcessEnv = {}): Promise<Loaded> {
  const file = join(w.dir, `config-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(
    file,
    `cache_dir: ${JSON.stringify(w.cache)}\n` +
      'network:\n  connect_timeout: 2\n  idle_timeout: 2\n  timeout: 30\n  retries: 1\n  retry_delay: 0.01\n' +
      `  ca_file: ${JSON.stringify(nginx.caFile)}\nrepositories:\n${repository}`,
  );
  const config = loadConfig({ configFile: file, env });
  const [repo] = await loadRepositories(config, { env });
  return { repo: repo!, network: config.network };
}

interface Run {
  warnings: Warning[];
  result: Awaited<ReturnType<typeof fetchEggs>>;
}

async function fetchFrom(w: World, { repo, network }: Loaded, eggs: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<Run> {
  const warnings: Warning[] = [];
  const requests = eggs.map((n) => ({ entry: repo.index.entries.find((e) => e.eggName === n)!, repository: repo.config }));
  const result = await fetchEggs(requests, {
    cacheDir: w.cache,
    parallel: 4,
    network,
    env,
    reporter: { report: (e) => void (e.type === 'warning' && warnings.push(e.warning)) },
  });
  return { warnings, result };
}

async function refused(p: Promise<unknown>, code: string, pattern: RegExp): Promise<PkgError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PkgError, String(e));
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return e;
  }
  assert.fail(`expected ${code}`);
}

function eggRequests(nginx: Nginx, prefix: string): string[] {
  return nginx
    .requests()
    .filter((l) => l.uri.startsWith(prefix) && l.uri.endsWith('.egg'))
    .map((l) => `${l.uri} ${l.status}`);
}

function cacheEggFiles(w: World): string[] {
  const root = join(w.cache, 'eggs');
  const out: string[] = [];
  const walk = (d: string): void => {
    let names: string[];
    try {
      names = readdirSync(d);
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(p.slice(root.length + 1));
    }
  };
  walk(root);
  return out.sort();
}

test('eggs are downloaded over HTTPS, verified into the cache, and not downloaded again', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.root });
  const repo = await load(w, nginx, `  - {url: "${nginx.url('/main/')}", name: main}\n`);
  const first = await fetchFrom(w, repo, EGGS);
  assert.deepEqual(first.warnings, []);
  for (const egg of first.result) {
    assert.equal(egg.cached, false);
    assert.deepEqual(readFileSync(egg.path), readFileSync(join(w.main, egg.eggName)));
    assert.equal(
      egg.sha256,
      createHash('sha256')
        .update(readFileSync(join(w.main, egg.eggName)))
        .digest('hex'),
    );
  }
  assert.deepEqual(eggRequests(nginx, '/main/').sort(), EGGS.map((e) => `/main/${e} 200`).sort());
  const second = await fetchFrom(w, repo, EGGS);
  assert.ok(second.result.every((e) => e.cached));
  assert.equal(eggRequests(nginx, '/main/').length, EGGS.length, 'nothing downloaded the second time');
  assert.ok(cacheEggFiles(w).every((f) => !f.endsWith('.partial')));
});

test('an egg missing from the repository (404) is fetched from its mirror', async (t) => {
  const w = await world(t);
  variant(w, 'thin', ['libfoo-1.0.0-1.egg']);
  const nginx = await startNginx(t, { root: w.root });
  const repo = await load(w, nginx, `  - {url: "${nginx.url('/thin/')}", name: main, mirrors: ["${nginx.url('/main/')}"]}\n`);
  const run = await fetchFrom(w, repo, ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg']);
  assert.deepEqual(
    run.result.map((e) => e.cached),
    [false, false],
  );
  assert.deepEqual(eggRequests(nginx, '/thin/').sort(), ['/thin/app-1.0.0-1.egg 404', '/thin/libfoo-1.0.0-1.egg 200']);
  assert.deepEqual(eggRequests(nginx, '/main/'), ['/main/app-1.0.0-1.egg 200']);
  assert.deepEqual(
    run.warnings.map((x) => x.code),
    ['MIRROR_FAILOVER'],
  );
  assert.match(
    run.warnings[0]!.message,
    new RegExp(
      /^app-1\.0\.0-1\.egg from repository main \(https:\/\/127\.0\.0\.1:\d+\/thin\/app-1\.0\.0-1\.egg\): /.source +
        /not found; trying mirror https:\/\/127\.0\.0\.1:\d+\/main\/$/.source,
    ),
  );
});

test('a corrupted egg on the server is refused; the mirror is not tried and the cache keeps nothing of it', async (t) => {
  const w = await world(t);
  const bad = variant(w, 'bad', ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg']);
  const egg = join(bad, 'libfoo-1.0.0-1.egg');
  const bytes = readFileSync(egg);
  bytes[200] = bytes[200]! ^ 0x20;
  writeFileSync(egg, bytes);
  // And one whose size changed (the server's Content-Length says so before any byte is written).
  writeFileSync(join(bad, 'app-1.0.0-1.egg'), Buffer.concat([readFileSync(join(bad, 'app-1.0.0-1.egg')), Buffer.alloc(10)]));
  const nginx = await startNginx(t, { root: w.root });
  const repo = await load(w, nginx, `  - {url: "${nginx.url('/bad/')}", name: main, mirrors: ["${nginx.url('/main/')}"]}\n`);
  const expected = repo.repo.index.entries.find((e) => e.eggName === 'libfoo-1.0.0-1.egg')!.sha256!;
  const actual = createHash('sha256').update(bytes).digest('hex');
  const err = await refused(
    fetchFrom(w, repo, ['libfoo-1.0.0-1.egg']),
    'EGG_HASH_MISMATCH',
    /^libfoo-1\.0\.0-1\.egg from repository main \(https:\/\/127\.0\.0\.1:\d+\/bad\/libfoo-1\.0\.0-1\.egg\): sha256 mismatch/,
  );
  assert.equal(err.details.expected, expected);
  assert.equal(err.details.actual, actual);
  const size = repo.repo.index.entries.find((e) => e.eggName === 'app-1.0.0-1.egg')!.size;
  await refused(
    fetchFrom(w, repo, ['app-1.0.0-1.egg']),
    'EGG_SIZE_MISMATCH',
    new RegExp(`/bad/app-1\\.0\\.0-1\\.egg\\): size mismatch: expected ${size} bytes, got ${size + 10} bytes$`),
  );
  assert.deepEqual(eggRequests(nginx, '/main/'), [], 'a mismatch is final: no mirror');
  assert.deepEqual(cacheEggFiles(w), [], 'no partial file, no egg');
});

test("credentials go to the repository's origin only, never across a redirect to another origin", async (t) => {
  const w = await world(t);
  const token = 'tok-fetch-9f3a-secret';
  const nginx = await startNginx(t, {
    root: w.root,
    server: `
    location ~ ^/private/(.+\\.egg)$ {
      if ($http_authorization != "Bearer ${token}") { return 401; }
      return 302 https://127.0.0.1:@ALTPORT@/main/$1;
    }
    location /private/ { if ($http_authorization != "Bearer ${token}") { return 401; } alias ${w.main}/; }`,
  });
  const env = { EGGS_TOKEN: token };
  const repo = await load(w, nginx, `  - {url: "${nginx.url('/private/')}", name: private, auth: {token: {env: EGGS_TOKEN}}}\n`, env);
  const run = await fetchFrom(w, repo, ['app-1.0.0-1.egg', 'data-1.0-1.egg'], env);
  assert.deepEqual(
    run.result.map((e) => e.cached),
    [false, false],
  );
  const origin = nginx.requests().filter((l) => l.uri.endsWith('.egg') && l.port === nginx.port);
  const other = nginx.requests().filter((l) => l.uri.endsWith('.egg') && l.port === nginx.altPort);
  assert.deepEqual(origin.map((l) => [l.uri, l.status, l.auth]).sort(), [
    ['/private/app-1.0.0-1.egg', 302, true],
    ['/private/data-1.0-1.egg', 302, true],
  ]);
  assert.deepEqual(other.map((l) => [l.uri, l.status, l.auth]).sort(), [
    ['/main/app-1.0.0-1.egg', 200, false],
    ['/main/data-1.0-1.egg', 200, false],
  ]);
  // Without the token the origin refuses, and the error does not show it.
  const err = await refused(
    fetchFrom(w, repo, ['libbar-2.0-1.egg'], { EGGS_TOKEN: 'wrong' }),
    'REPO_AUTH_FAILED',
    /libbar-2\.0-1\.egg from repository private: https:\/\/127\.0\.0\.1:\d+\/private\/libbar-2\.0-1\.egg: 401 Unauthorized/,
  );
  assert.ok(!JSON.stringify(err.toJSON()).includes('wrong') && !JSON.stringify(err.toJSON()).includes(token));
});

/** An HTTPS server (the test CA's certificate) whose handler decides, per request, how to answer. */
async function customServer(
  t: TestContext,
  handler: (req: IncomingMessage, res: ServerResponse, n: number) => void,
): Promise<{ url: string; requests: () => number }> {
  const ca = testCA();
  let n = 0;
  const server = createHttpsServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, (req, res) =>
    handler(req, res, ++n),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return { url: `https://127.0.0.1:${(server.address() as { port: number }).port}/main/`, requests: () => n };
}

test('a connection lost mid-body is retried from the start; an interrupt stops a download and leaves no partial file', async (t) => {
  const w = await world(t, ['big-1.0-1.egg']);
  const nginx = await startNginx(t, { root: w.root });
  const indexed = await load(w, nginx, `  - {url: "${nginx.url('/main/')}", name: main}\n`);
  const body = readFileSync(join(w.main, 'big-1.0-1.egg'));
  // First request: half the body (2 MiB), then the connection drops. Later ones: the whole egg.
  const flaky = await customServer(t, (_req, res, n) => {
    res.writeHead(200, { 'content-length': body.length });
    if (n > 1) return void res.end(body);
    // A FIN, not a reset: the half that was sent arrives before the connection ends.
    res.write(body.subarray(0, body.length >> 1), () => res.socket?.end());
  });
  const events: FetchProgress[] = [];
  const requests = [
    {
      entry: indexed.repo.index.entries.find((e) => e.eggName === 'big-1.0-1.egg')!,
      repository: { ...indexed.repo.config, location: { kind: 'http' as const, url: flaky.url } },
    },
  ];
  const [got] = await fetchEggs(requests, {
    cacheDir: w.cache,
    parallel: 2,
    network: indexed.network,
    env: {},
    reporter: { report: (e) => void (e.type === 'download' && events.push(e.progress)) },
  });
  assert.deepEqual(readFileSync(got!.path), body);
  assert.equal(flaky.requests(), 2);
  assert.ok(
    events.some((e) => e.egg.state === 'restarted'),
    "the first attempt's bytes were discounted",
  );
  assert.equal(events.at(-1)!.overall.bytesDone, body.length);

  // A server that sends half the body and then nothing: the caller's signal ends it at once.
  const stalled = await customServer(t, (_req, res) => {
    res.writeHead(200, { 'content-length': body.length });
    res.write(body.subarray(0, body.length >> 1));
  });
  const controller = new AbortController();
  const other = join(w.dir, 'cache2');
  const stalledRequests = [
    { ...requests[0]!, repository: { ...requests[0]!.repository, location: { kind: 'http' as const, url: stalled.url } } },
  ];
  const pending = fetchEggs(stalledRequests, {
    cacheDir: other,
    parallel: 1,
    network: { ...indexed.network, idleTimeoutMs: 60_000 },
    env: {},
    signal: controller.signal,
    reporter: { report: (e) => void (e.type === 'download' && e.progress.egg.done > 0 && controller.abort()) },
  });
  await refused(pending, 'INTERRUPTED', /interrupted while fetching eggs/);
  assert.deepEqual(cacheEggFiles({ ...w, cache: other }), []);
});
