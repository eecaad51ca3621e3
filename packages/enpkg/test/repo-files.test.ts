/**
 * Files that are not what they should be: a FIFO (or directory) where a local repository has its
 * index, signature or eggs (refused at once, never a hang; the next mirror tried for an egg), and a
 * cache directory that is read-only or a file (CACHE_WRITE_FAILED naming the path, nothing changed).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Warning } from 'egginst';
import { DEFAULT_NETWORK, loadConfig, loadRepositories, openIndexCache, PkgError, publishIndex, type EnpkgConfig } from 'enpkg';
import { FetchErrorCodes, fetchEggs, type FetchOptions } from '../src/fetch/index.js';
import { RepoErrorCodes, RepoWarningCodes } from '../src/repo/errors.js';
import { fixtureEgg, snapshot, tmp } from './repo-helpers.js';
import { openTo, runUnprivileged } from './unprivileged.js';

const ENPKG = new URL('../src/index.js', import.meta.url).href;
const FETCH = new URL('../src/fetch/index.js', import.meta.url).href;

/** fixtures/build/eggs (this file is packages/enpkg/dist/test/repo-files.test.js); `npm run fixtures` builds it. */
const EGG = 'data-1.0-1.egg';

function mkfifo(path: string): void {
  rmSync(path, { force: true });
  assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo');
}

interface World {
  dir: string;
  repo: string;
  cache: string;
  config: (extra?: string) => EnpkgConfig;
  configFile: string;
}

/** A local repository with one egg, indexed; a configuration naming it; a cache directory not yet created. */
async function world(t: { after(fn: () => unknown): void }): Promise<World> {
  const dir = tmp(t, 'enpkg-files-');
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  copyFileSync(fixtureEgg(EGG), join(repo, EGG));
  await publishIndex(repo, { name: 'main' });
  const cache = join(dir, 'cache');
  const configFile = join(dir, 'config.yaml');
  const config = (extra = ''): EnpkgConfig => {
    writeFileSync(
      configFile,
      `cache_dir: ${JSON.stringify(cache)}\nrepositories:\n  - path: ${JSON.stringify(repo)}\n    name: main\n${extra}`,
    );
    return loadConfig({ configFile, env: {} });
  };
  return { dir, repo, cache, config, configFile };
}

async function rejects(p: Promise<unknown>, code: string, ...mentions: string[]): Promise<PkgError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof PkgError, String(e));
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `${JSON.stringify(e.message)} does not name ${m}`);
    assert.ok(e.hint, 'a hint');
    return e;
  }
  assert.fail(`expected ${code}`);
}

function fetchOpts(cache: string, warnings: Warning[] = []): FetchOptions {
  return {
    cacheDir: cache,
    parallel: 2,
    network: DEFAULT_NETWORK,
    env: {},
    fsync: false,
    reporter: { report: (e) => void (e.type === 'warning' && warnings.push(e.warning)) },
  };
}

for (const file of ['index.json.zst', 'index.json.zst.sig']) {
  test(`a FIFO for the repository's ${file} is refused at once, naming it; nothing is cached`, { timeout: 20_000 }, async (t) => {
    const w = await world(t);
    const config = w.config();
    mkfifo(join(w.repo, file));
    await rejects(loadRepositories(config), RepoErrorCodes.REPO_UNREACHABLE, join(w.repo, file), 'not a regular file');
    assert.equal(existsSync(w.cache), false);
  });
}

test("a FIFO for Enstaller's index.json (no index.json.zst) is refused at once", { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const config = w.config();
  rmSync(join(w.repo, 'index.json.zst'));
  mkfifo(join(w.repo, 'index.json'));
  await rejects(loadRepositories(config), RepoErrorCodes.REPO_UNREACHABLE, join(w.repo, 'index.json'));
});

test('a FIFO (or a directory) for an egg is EGG_READ_FAILED naming the file; the cache holds no egg', { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const [loaded] = await loadRepositories(w.config());
  const entry = loaded!.index.entries[0]!;
  for (const make of [mkfifo, (p: string) => (rmSync(p, { force: true }), mkdirSync(p))]) {
    make(join(w.repo, EGG));
    const before = snapshot(w.cache);
    await rejects(
      fetchEggs([{ entry, repository: loaded!.config }], fetchOpts(w.cache)),
      FetchErrorCodes.EGG_READ_FAILED,
      join(w.repo, EGG),
      'not a regular file',
    );
    assert.deepEqual(snapshot(w.cache), before);
    rmSync(join(w.repo, EGG), { recursive: true, force: true });
  }
});

test('an egg that is a FIFO in the repository is fetched from the mirror, with one failover warning', { timeout: 20_000 }, async (t) => {
  const w = await world(t);
  const mirror = join(w.dir, 'mirror');
  mkdirSync(mirror);
  copyFileSync(join(w.repo, EGG), join(mirror, EGG));
  copyFileSync(join(w.repo, 'index.json.zst'), join(mirror, 'index.json.zst'));
  const [loaded] = await loadRepositories(w.config(`    mirrors: [${JSON.stringify(mirror)}]\n`));
  mkfifo(join(w.repo, EGG));
  const warnings: Warning[] = [];
  const [got] = await fetchEggs([{ entry: loaded!.index.entries[0]!, repository: loaded!.config }], fetchOpts(w.cache, warnings));
  assert.ok(got!.path.startsWith(w.cache));
  assert.deepEqual(
    warnings.map((x) => x.code),
    [RepoWarningCodes.MIRROR_FAILOVER],
  );
  assert.ok(warnings[0]!.message.includes(mirror), warnings[0]!.message);
});

test('repo index: a FIFO egg is left out as NOT_A_FILE; a FIFO previous index is INDEX_INVALID naming it', {
  timeout: 20_000,
}, async (t) => {
  const w = await world(t);
  mkfifo(join(w.repo, 'other-1.0-1.egg'));
  const r = await publishIndex(w.repo);
  assert.deepEqual(
    r.refused.map((x) => [x.file, x.code]),
    [['other-1.0-1.egg', RepoErrorCodes.NOT_A_FILE]],
  );
  assert.equal(r.packages, 1);
  mkfifo(join(w.repo, 'index.json.zst'));
  const before = readdirSync(w.repo).sort();
  await rejects(publishIndex(w.repo), RepoErrorCodes.INDEX_INVALID, join(w.repo, 'index.json.zst'));
  assert.deepEqual(readdirSync(w.repo).sort(), before);
});

test('cache_dir that is a file: loading an index and fetching an egg are CACHE_WRITE_FAILED naming the path', async (t) => {
  const w = await world(t);
  writeFileSync(w.cache, 'not a directory\n');
  const config = w.config();
  const e = await rejects(loadRepositories(config), FetchErrorCodes.CACHE_WRITE_FAILED, w.cache, 'not a directory');
  assert.match(e.hint!, /cache_dir/);
  // The egg cache says the same (the index read with a cache elsewhere).
  const [loaded] = await loadRepositories({ ...config, cacheDir: join(w.dir, 'other-cache') });
  await rejects(
    fetchEggs([{ entry: loaded!.index.entries[0]!, repository: loaded!.config }], fetchOpts(w.cache)),
    FetchErrorCodes.CACHE_WRITE_FAILED,
    w.cache,
  );
  assert.equal(readFileSync(w.cache, 'utf8'), 'not a directory\n', 'the file is left as it was');
});

test('a read-only cache directory: index, serial and egg writes are CACHE_WRITE_FAILED naming the path', async (t) => {
  const w = await world(t);
  mkdirSync(w.cache);
  w.config();
  openTo(w.dir, w.repo);
  chmodSync(w.configFile, 0o644);
  chmodSync(w.cache, 0o555);
  for (const f of readdirSync(w.repo)) chmodSync(join(w.repo, f), 0o644);
  const index = runUnprivileged(
    `const { loadConfig, loadRepositories } = await import(args[0]);
     await loadRepositories(loadConfig({ configFile: args[1], env: {} }));`,
    [ENPKG, w.configFile],
  );
  assert.equal(index.ok, false);
  assert.equal(index.code, FetchErrorCodes.CACHE_WRITE_FAILED, index.message);
  assert.ok(index.message!.includes(w.cache), index.message);

  const serial = runUnprivileged(
    `const { openIndexCache } = await import(args[0]);
     openIndexCache(args[1]).serials.accept('some-repo-0123456789abcdef', 3, 'main');`,
    [ENPKG, w.cache],
  );
  assert.equal(serial.code, FetchErrorCodes.CACHE_WRITE_FAILED, serial.message);
  assert.ok(serial.message!.includes(w.cache), serial.message);

  const egg = runUnprivileged(
    `const { loadConfig, loadRepositories, DEFAULT_NETWORK } = await import(args[0]);
     const { fetchEggs } = await import(args[1]);
     const config = loadConfig({ configFile: args[2], env: {} });
     const [r] = await loadRepositories({ ...config, cacheDir: args[3] });
     await fetchEggs([{ entry: r.index.entries[0], repository: r.config }],
       { cacheDir: args[4], parallel: 1, network: DEFAULT_NETWORK, env: {}, fsync: false });`,
    [ENPKG, FETCH, w.configFile, join('/tmp', `enpkg-files-scratch-${process.pid}`), w.cache],
  );
  rmSync(join('/tmp', `enpkg-files-scratch-${process.pid}`), { recursive: true, force: true });
  assert.equal(egg.code, FetchErrorCodes.CACHE_WRITE_FAILED, egg.message);
  assert.ok(egg.message!.includes(w.cache), egg.message);
  chmodSync(w.cache, 0o755);
  assert.deepEqual(readdirSync(w.cache), []);
  assert.ok(openIndexCache(w.cache).root.startsWith(w.cache));
});
