/**
 * The sharded index (docs/sharded-index.md) over a real nginx: install, update, search, info and
 * revert from a sharded repository fetching only the shards they reach; every trust refusal (another
 * key, a replayed serial, an expired root, a tampered or missing shard, a name listed twice) with the
 * cache unchanged; incremental `repo index` and the grace period; `--from` on Enstaller's index.json;
 * fallback to the monolithic index; and a caching proxy in front of the origin as a CDN edge.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPrivateKey, sign } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compress, decompress } from 'zstd-napi';
import { fixturePath, homeEnv, runEnpkg, type RunResult, type ServedRepo, servedRepo } from './helpers/index.js';
import { startNginx, type Nginx } from './helpers/nginx.js';

const EGGS = ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libfoo-1.1.0-1.egg', 'libbar-2.0-1.egg', 'data-1.0-1.egg'];

/** The headers docs/sharded-index.md tells publishers to serve. */
const CACHE_HEADERS = `
    location /main/shards/ { add_header Cache-Control "public, max-age=31536000, immutable"; }
    location ~ /root\\.json\\.zst(\\.sig)?$ { add_header Cache-Control "public, max-age=1, must-revalidate"; }`;

interface World extends ServedRepo {
  cache: string;
  prefix: string;
}

async function world(t: TestContext, eggs = EGGS): Promise<World> {
  const s = await servedRepo(t, eggs, 'enpkg-sharded-');
  const w = { ...s, cache: join(s.dir, 'cache'), prefix: join(s.dir, 'p') };
  await publish(w);
  return w;
}

async function publish(w: World, ...args: string[]): Promise<Record<string, unknown>> {
  const r = await runEnpkg(['repo', 'index', w.main, '--sign', w.key, '--name', 'main', '--json', ...args]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.json as Record<string, unknown>;
}

function config(w: World, url: string, caFile: string, name = 'config.yaml'): string {
  const file = join(w.dir, name);
  writeFileSync(
    file,
    `cache_dir: ${JSON.stringify(w.cache)}
python: "2.7"
network: {connect_timeout: 2, idle_timeout: 2, timeout: 30, retries: 0, ca_file: ${JSON.stringify(caFile)}}
repositories:
  - {url: "${url}", name: main, keys: ["${w.publicKey}"]}
`,
  );
  return file;
}

function enpkg(w: World, cfg: string, args: string[]): Promise<RunResult> {
  return runEnpkg([...args, '--config', cfg], {
    env: homeEnv(w.home),
  });
}

async function ok(w: World, cfg: string, args: string[]): Promise<Record<string, unknown>> {
  const r = await enpkg(w, cfg, [...args, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  return r.json as Record<string, unknown>;
}

async function refused(w: World, cfg: string, code: string, pattern: RegExp): Promise<void> {
  const before = snapshot(w.cache);
  const r = await enpkg(w, cfg, ['search', '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const error = (r.json as { error: { code: string; message: string; hint: string } }).error;
  assert.equal(error.code, code, r.stdout);
  assert.match(error.message, pattern);
  assert.ok(error.hint);
  assert.deepEqual(snapshot(w.cache), before, 'the cache is unchanged');
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    if (!existsSync(d)) return;
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

function uris(nginx: Nginx, from = 0): string[] {
  return nginx
    .requests()
    .slice(from)
    .map((l) => `${l.uri.replace(/[0-9a-f]{64}/, 'SHA')} ${l.status}`);
}

interface Root {
  schema: number;
  repository: string;
  serial: number;
  expires?: string;
  shards: Array<{ name: string; sha256: string; size: number }>;
}

function readRoot(w: World): Root {
  return JSON.parse(decompress(readFileSync(join(w.main, 'root.json.zst'))).toString('utf8')) as Root;
}

/** Replace the root with `root`, signed with the repository's key (a publisher's own, hostile or not). */
function writeRoot(w: World, root: Root): void {
  const bytes = compress(Buffer.from(JSON.stringify(root)));
  const key = createPrivateKey(readFileSync(w.key, 'utf8'));
  replaceServed(join(w.main, 'root.json.zst.sig'), `${sign(null, bytes, key).toString('base64')}\n`);
  replaceServed(join(w.main, 'root.json.zst'), bytes);
}

/**
 * Write a file the server serves, with a modification time seconds past the one it had: nginx's
 * validators (ETag, Last-Modified) are whole seconds and the size, so a same-size file rewritten within
 * the second would be answered 304 and the client would keep its copy.
 */
function replaceServed(path: string, bytes: Buffer | string): void {
  const before = existsSync(path) ? statSync(path).mtimeMs : 0;
  writeFileSync(path, bytes);
  const when = new Date(Math.max(Date.now(), before) + 5_000);
  utimesSync(path, when, when);
}

function shardOf(w: World, name: string): string {
  return join(w.main, 'shards', `${readRoot(w).shards.find((s) => s.name === name)!.sha256}.json.zst`);
}

test('install, update, search, info and revert from a sharded repository fetch only the shards they reach', async (t) => {
  const w = await world(t, ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg', 'data-1.0-1.egg']);
  const nginx = await startNginx(t, { root: w.www, server: CACHE_HEADERS });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);

  const info = (await ok(w, cfg, ['info', 'libfoo'])) as { packages: Array<{ version: string }> };
  assert.deepEqual(
    info.packages.map((p) => p.version),
    ['1.0.0'],
  );
  assert.deepEqual(uris(nginx), ['/main/root.json.zst 200', '/main/root.json.zst.sig 200', '/main/shards/SHA.json.zst 200']);

  let mark = nginx.requests().length;
  const search = (await ok(w, cfg, ['search', '^lib'])) as { packages: Array<{ name: string }> };
  assert.deepEqual(
    search.packages.map((p) => p.name),
    ['libbar', 'libfoo'],
  );
  assert.deepEqual(uris(nginx, mark), ['/main/root.json.zst 304', '/main/shards/SHA.json.zst 200'], 'libfoo came from the cache');

  mark = nginx.requests().length;
  await ok(w, cfg, ['install', 'app', '--prefix', w.prefix, '-y']);
  const installed = nginx
    .requests()
    .slice(mark)
    .map((l) => l.uri);
  assert.ok(!installed.some((u) => u.includes(readRoot(w).shards.find((s) => s.name === 'data')!.sha256)), 'data is not reached');
  assert.ok(installed.includes('/main/app-1.0.0-1.egg'));
  assert.ok(existsSync(join(w.prefix, 'bin')) || existsSync(join(w.prefix, 'EGG-INFO', 'app')));

  // New versions of app and libfoo: two shards and the root change.
  for (const egg of ['app-1.1.0-1.egg', 'libfoo-1.1.0-1.egg']) copyFileSync(fixturePath('eggs', egg), join(w.main, egg));
  const again = (await publish(w)) as { sharded: { written: number; kept: number; retired: number } };
  assert.deepEqual([again.sharded.written, again.sharded.kept, again.sharded.retired], [2, 2, 2]);
  const updated = (await ok(w, cfg, ['update', 'app', '--prefix', w.prefix, '-y'])) as { actions: unknown[] };
  assert.equal(updated.actions.length, 2, JSON.stringify(updated));
  const listed = (await ok(w, cfg, ['list', '--prefix', w.prefix])) as { packages: Array<{ name: string; version: string }> };
  assert.ok(
    listed.packages.some((p) => p.name === 'libfoo' && p.version === '1.1.0'),
    JSON.stringify(listed),
  );

  const reverted = await enpkg(w, cfg, ['revert', '1', '--prefix', w.prefix, '-y', '--json']);
  assert.equal(reverted.code, 0, reverted.stdout + reverted.stderr);
  const after = (await ok(w, cfg, ['list', '--prefix', w.prefix])) as { packages: Array<{ name: string; version: string }> };
  assert.ok(after.packages.some((p) => p.name === 'libfoo' && p.version === '1.0.0'));

  // --offline works from the cached root and shards.
  const offline = (await ok(w, cfg, ['info', 'app', '--offline'])) as { packages: unknown[] };
  assert.equal(offline.packages.length, 2);
  const missing = await enpkg(w, cfg, ['info', 'data', '--offline', '--json']);
  assert.equal(missing.code, 1);
  assert.equal((missing.json as { error: { code: string } }).error.code, 'REPO_OFFLINE_NO_CACHE');
});

test('a root signed by another key is refused after one retry; the cache is unchanged', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);
  await ok(w, cfg, ['info', 'app']);
  const other = join(w.dir, 'other.key');
  assert.equal((await runEnpkg(['repo', 'keygen', other, '-q'])).code, 0);
  copyFileSync(fixturePath('eggs', 'app-1.1.0-1.egg'), join(w.main, 'app-1.1.0-1.egg'));
  assert.equal((await runEnpkg(['repo', 'index', w.main, '--sign', other, '-q'])).code, 0);
  const mark = nginx.requests().length;
  await refused(w, cfg, 'INDEX_SIGNATURE_INVALID', /index root of main .* does not verify with any trusted key/);
  assert.deepEqual(
    uris(nginx, mark).filter((u) => u.startsWith('/main/root')),
    ['/main/root.json.zst 200', '/main/root.json.zst.sig 200', '/main/root.json.zst 200', '/main/root.json.zst.sig 200'],
    'fetched twice: a root published between the two requests is retried once',
  );
});

test('a replayed older root, an expired root and a root listing a name twice are refused; the cache is unchanged', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);
  const old = { root: readFileSync(join(w.main, 'root.json.zst')), sig: readFileSync(join(w.main, 'root.json.zst.sig')) };
  copyFileSync(fixturePath('eggs', 'app-1.1.0-1.egg'), join(w.main, 'app-1.1.0-1.egg'));
  await publish(w, '--shard-grace', '30');
  await ok(w, cfg, ['search']);

  replaceServed(join(w.main, 'root.json.zst.sig'), old.sig);
  replaceServed(join(w.main, 'root.json.zst'), old.root);
  await refused(w, cfg, 'INDEX_ROLLBACK', /serial 1 is lower than serial 2/);

  await publish(w);
  const root = readRoot(w);
  writeRoot(w, { ...root, serial: root.serial + 1, expires: '2020-01-01T00:00:00Z' });
  await refused(w, cfg, 'INDEX_EXPIRED', /expired at 2020-01-01T00:00:00Z/);

  writeRoot(w, { ...root, serial: root.serial + 1, shards: [...root.shards, { ...root.shards[0]! }] });
  await refused(w, cfg, 'INDEX_INVALID', new RegExp(`the package name ${root.shards[0]!.name} is listed twice`));
});

test('a tampered shard and a shard the server lacks are refused, naming root and shard; nothing is cached', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);
  const libfoo = shardOf(w, 'libfoo');
  const good = readFileSync(libfoo);
  // One bit changed, the size kept: refused by its hash (a longer one would be refused by its size).
  const tampered = Buffer.from(good);
  tampered[tampered.length >> 1]! ^= 1;
  writeFileSync(libfoo, tampered);
  await refused(w, cfg, 'INDEX_SHARD_MISMATCH', /the shard of libfoo \(shards\/[0-9a-f]{64}\.json\.zst\) of main .* altered or damaged/);
  for (const d of ['packs', 'shards']) {
    const dir = join(w.cache, 'index', d);
    assert.ok(!existsSync(dir) || readdirSync(dir).length === 0, `nothing in index/${d}`);
  }

  rmSync(libfoo);
  await refused(
    w,
    cfg,
    'INDEX_SHARD_MISSING',
    /the index root of main .* \(serial 1\) names the shard shards\/[0-9a-f]{64}\.json\.zst for libfoo, but https:/,
  );
  writeFileSync(libfoo, good);
  await ok(w, cfg, ['search']);
});

test('repo index rewrites only the changed shard; unreferenced shards go after the grace period', async (t) => {
  const w = await world(t);
  const first = readRoot(w);
  copyFileSync(fixturePath('eggs', 'app-1.1.0-1.egg'), join(w.main, 'app-1.1.0-1.egg'));
  const r = (await publish(w)) as {
    read: number;
    sharded: { shards: number; written: number; kept: number; retired: number; removed: number };
  };
  assert.equal(r.read, 1, 'one egg read');
  assert.deepEqual(r.sharded, { ...r.sharded, shards: 4, written: 1, kept: 3, retired: 1, removed: 0 });
  const second = readRoot(w);
  const changed = second.shards.filter((s) => first.shards.find((f) => f.name === s.name)!.sha256 !== s.sha256).map((s) => s.name);
  assert.deepEqual(changed, ['app']);
  assert.equal(second.serial, first.serial + 1);
  const oldApp = join(w.main, 'shards', `${first.shards.find((s) => s.name === 'app')!.sha256}.json.zst`);
  assert.ok(existsSync(oldApp), 'kept for clients that hold the previous root');

  const unchanged = (await publish(w)) as { sharded: { written: number; removed: number } };
  assert.deepEqual([unchanged.sharded.written, unchanged.sharded.removed], [0, 0]);
  assert.ok(existsSync(oldApp), 'still within the grace period');
  const past = new Date(Date.now() - 3 * 86_400_000);
  utimesSync(oldApp, past, past);
  const pruned = (await publish(w)) as { sharded: { removed: number } };
  assert.equal(pruned.sharded.removed, 1);
  assert.ok(!existsSync(oldApp));
  assert.equal(readdirSync(join(w.main, 'shards')).length, 4);
});

test("--from builds both forms from Enstaller's index.json without eggs; an entry without sha256 refuses it all", async (t) => {
  const w = await world(t, []);
  const sha = (s: string): string => createHash('sha256').update(s).digest('hex');
  const legacy = {
    'nose-1.3.4-1.egg': {
      available: true,
      build: 1,
      md5: sha('n').slice(0, 32),
      mtime: 1409944509.0,
      name: 'nose',
      product: 'free',
      python: null,
      size: 334992,
      type: 'egg',
      version: '1.3.4',
      packages: ['six 1.8'],
      sha256: sha('nose'),
    },
    'six-1.8.0-1.egg': {
      available: true,
      build: 1,
      md5: sha('s').slice(0, 32),
      mtime: 1409944509.0,
      name: 'six',
      python: null,
      size: 1000,
      type: 'egg',
      version: '1.8.0',
      sha256: sha('six'),
    },
    'Six-1.9.0-1.egg': {
      available: true,
      build: 1,
      md5: sha('S').slice(0, 32),
      mtime: 1409944509.0,
      name: 'six',
      python: null,
      size: 1000,
      type: 'egg',
      version: '1.9.0',
      sha256: sha('Six'),
    },
  };
  const file = join(w.dir, 'index.json');
  writeFileSync(file, JSON.stringify(legacy, null, 1));
  const r = await runEnpkg(['repo', 'index', w.main, '--from', file, '--sign', w.key, '--json']);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const j = r.json as { packages: number; serial: number; sharded: { shards: number } };
  assert.deepEqual([j.packages, j.serial, j.sharded.shards], [3, 2, 2]);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);
  const s = (await ok(w, cfg, ['search'])) as { packages: Array<{ name: string; versions: Array<{ version: string }> }> };
  assert.deepEqual(
    s.packages.map((p) => `${p.name} ${p.versions.map((v) => v.version).join(',')}`),
    ['nose 1.3.4', 'Six 1.8.0,1.9.0'],
  );
  // The monolithic index written beside it says the same.
  const mono = JSON.parse(decompress(readFileSync(join(w.main, 'index.json.zst'))).toString('utf8')) as {
    packages: object;
    serial: number;
  };
  assert.deepEqual([Object.keys(mono.packages).sort(), mono.serial], [Object.keys(legacy).sort(), 2]);

  // Into a new directory (a migration's target); a missing INDEX is an error naming it.
  const fresh = await runEnpkg(['repo', 'index', join(w.www, 'fresh'), '--from', file, '--json']);
  assert.equal(fresh.code, 0, fresh.stdout + fresh.stderr);
  assert.ok(existsSync(join(w.www, 'fresh', 'root.json.zst')));
  const none = await runEnpkg(['repo', 'index', w.main, '--from', join(w.dir, 'nope.json'), '--json']);
  assert.equal(none.code, 1, none.stdout);
  assert.match((none.json as { error: { message: string } }).error.message, /nope\.json does not exist/);

  const before = snapshot(w.main);
  const bad = { ...legacy, 'zlib-1.0-1.egg': { ...legacy['six-1.8.0-1.egg'], name: 'zlib', version: '1.0', sha256: undefined } };
  writeFileSync(file, JSON.stringify(bad));
  const refused = await runEnpkg(['repo', 'index', w.main, '--from', file, '--json']);
  assert.equal(refused.code, 1, refused.stdout);
  assert.match((refused.json as { error: { message: string } }).error.message, /entry "zlib-1\.0-1\.egg" has no sha256/);
  assert.deepEqual(snapshot(w.main), before, 'nothing published');
});

test('an unchanged root (304) is taken from the accepted-root cache, keyed by the trusted keys; a damaged one is rebuilt', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);
  type Search = { packages: unknown[]; repositories: Array<{ origin: string }> };
  const search = async (): Promise<Search> => (await ok(w, cfg, ['search'])) as Search;
  const first = await search();
  const table = Object.keys(snapshot(w.cache)).find((p) => p.endsWith('/root.table'));
  assert.ok(table, 'the accepted root is cached beside the root');
  const file = join(w.cache, table);
  const good = readFileSync(file);
  const mark = nginx.requests().length;
  const again = await search();
  assert.deepEqual([again.packages, again.repositories[0]!.origin], [first.packages, 'not-modified']);
  assert.deepEqual(uris(nginx, mark), ['/main/root.json.zst 304'], 'one revalidation; no shard fetched');
  const verbose = await enpkg(w, cfg, ['search', '-v']);
  assert.match(verbose.stderr + verbose.stdout, /signature verified when first accepted \(the accepted root, from the cache\)/);

  // A damaged file reads as absent: the root is checked again from its bytes, and the file rewritten.
  const bad = Buffer.from(good);
  bad[bad.length >> 1]! ^= 0xff;
  writeFileSync(file, bad);
  const rebuilt = await enpkg(w, cfg, ['search', '-v']);
  assert.equal(rebuilt.code, 0, rebuilt.stderr);
  assert.doesNotMatch(rebuilt.stderr + rebuilt.stdout, /from the cache\)/);
  assert.deepEqual(readFileSync(file), good);

  // Another trusted key: the same cached root (304) is verified again, and refused.
  const other = join(w.dir, 'other.key');
  const kg = await runEnpkg(['repo', 'keygen', other, '--json']);
  const otherKey = (kg.json as { publicKey: string }).publicKey;
  const cfg2 = join(w.dir, 'other.yaml');
  writeFileSync(cfg2, readFileSync(cfg, 'utf8').replace(w.publicKey, otherKey));
  await refused(w, cfg2, 'INDEX_SIGNATURE_INVALID', /does not verify with any trusted key/);
});

test('a repository without the sharded form is read from its monolithic index', async (t) => {
  const w = await world(t);
  for (const f of ['root.json.zst', 'root.json.zst.sig', 'shards']) rmSync(join(w.main, f), { recursive: true, force: true });
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx.url('/main/'), nginx.caFile);
  const s = (await ok(w, cfg, ['search'])) as { repositories: Array<{ format: string }> };
  assert.equal(s.repositories[0]!.format, 'zst');
  assert.deepEqual(uris(nginx), ['/main/root.json.zst 404', '/main/index.json.zst 200', '/main/index.json.zst.sig 200']);
});

test('a caching proxy in front of the origin serves every shard to a second client; the origin only revalidates the root', async (t) => {
  const w = await world(t);
  const origin = await startNginx(t, { root: w.www, server: CACHE_HEADERS });
  const edge = await startNginx(t, { root: w.www, edgeOf: `https://127.0.0.1:${origin.port}` });
  const first = config(w, edge.url('/main/'), edge.caFile);
  await ok(w, first, ['search']);
  const shards = readRoot(w).shards.length;
  assert.equal(origin.requests().filter((l) => l.uri.startsWith('/main/shards/')).length, shards);

  // The root's max-age (1 s) passes: the edge must revalidate it, and only it. nginx keeps times in
  // whole seconds (stored at second n, valid through second n + 1), so that takes more than 2 s.
  await new Promise((r) => setTimeout(r, 2100));
  const mark = origin.requests().length;
  const second = { ...w, cache: join(w.dir, 'cache2'), home: join(w.dir, 'home2') };
  mkdirSync(second.home);
  const cfg2 = config(second, edge.url('/main/'), edge.caFile, 'config2.yaml');
  const s = (await ok(second, cfg2, ['search'])) as { packages: unknown[] };
  assert.equal(s.packages.length, 4);
  assert.deepEqual(uris(origin, mark), ['/main/root.json.zst 304', '/main/root.json.zst.sig 304']);
  const atEdge = edge.requests().filter((l) => l.uri.startsWith('/main/shards/'));
  assert.equal(atEdge.filter((l) => l.cache === 'HIT').length, shards, 'every shard from the edge cache');
});
