/**
 * Fetching repositories over HTTPS from a real nginx on loopback (throwaway CA): conditional GET and
 * 304 reuse, redirects allowed and refused, basic and token auth with credentials never shown,
 * 404 / 500 with retries, a stalled server, mirrors failing over, plain http refused unless insecure,
 * an HTTPS proxy from HTTPS_PROXY / NO_PROXY, and a hostile index that leaves the cache unchanged.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { connect, createServer as createTcpServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createServer as createTlsServer } from 'node:tls';
import { fixturePath, homeEnv, runEnpkg, type RunResult, type ServedRepo, servedRepo } from './helpers/index.js';
import { startNginx, testCA, type Nginx } from './helpers/nginx.js';

const EGGS = ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libfoo-1.1.0-1.egg', 'libbar-2.0-1.egg'];

type World = ServedRepo;

/**
 * These tests are of the monolithic index (and the transport under it): the sharded form `repo index`
 * writes beside it is removed, so the client falls back (test/sharded-index.test.ts has its own).
 */
function monolithicOnly(dir: string): void {
  for (const f of ['root.json.zst', 'root.json.zst.sig', 'shards']) rmSync(join(dir, f), { recursive: true, force: true });
}

async function publish(dir: string, args: string[]): Promise<RunResult> {
  const r = await runEnpkg(['repo', 'index', dir, ...args]);
  monolithicOnly(dir);
  return r;
}

async function world(t: TestContext): Promise<World> {
  const w = await servedRepo(t, EGGS, 'enpkg-http-');
  const idx = await publish(w.main, ['--sign', w.key, '--name', 'main', '-q']);
  assert.equal(idx.code, 0, idx.stderr);
  return w;
}

/** A configuration file: the network settings suited to tests, the given repositories (YAML). */
function config(w: World, nginx: Nginx | null, repositories: string, name = 'config.yaml'): string {
  const file = join(w.dir, name);
  writeFileSync(
    file,
    `cache_dir: ${JSON.stringify(join(w.dir, 'cache'))}
network:
  connect_timeout: 2
  idle_timeout: 0.5
  timeout: 30
  retries: 2
  retry_delay: 0.01
${nginx ? `  ca_file: ${JSON.stringify(nginx.caFile)}\n` : ''}repositories:
${repositories}`,
  );
  return file;
}

function enpkg(w: World, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return runEnpkg(args, {
    env: { ...homeEnv(w.home), ...env },
  });
}

interface SearchJson {
  ok: boolean;
  packages: Array<{ name: string; versions: Array<{ version: string; build: number }> }>;
  repositories: Array<{ name: string; origin: string; serial: number; signed: boolean; packages: number }>;
  warnings: Array<{ code: string; message: string }>;
  error?: { code: string; message: string; hint?: string };
}

async function search(
  w: World,
  cfg: string,
  env: Record<string, string> = {},
  extra: string[] = [],
): Promise<{ r: RunResult; j: SearchJson }> {
  const r = await enpkg(w, ['search', '--json', '--config', cfg, ...extra], env);
  assert.ok(r.json, `JSON on stdout: ${r.stdout}\n${r.stderr}`);
  return { r, j: r.json as SearchJson };
}

function okSearch(res: { r: RunResult; j: SearchJson }): SearchJson {
  assert.equal(res.r.code, 0, `${res.r.stdout}\n${res.r.stderr}`);
  assert.equal(res.j.ok, true);
  return res.j;
}

function failed(res: { r: RunResult; j: SearchJson }, code: string, pattern?: RegExp): SearchJson['error'] & object {
  assert.equal(res.r.code, 1, res.r.stdout);
  assert.equal(res.j.ok, false);
  assert.equal(res.j.error?.code, code, res.r.stdout);
  if (pattern) assert.match(res.j.error!.message, pattern);
  assert.ok(res.j.error!.hint, 'a hint');
  return res.j.error!;
}

function names(j: SearchJson): string[] {
  return j.packages.map((p) => `${p.name} ${p.versions.map((v) => `${v.version}-${v.build}`).join(',')}`);
}

function requestsFor(nginx: Nginx, uriPrefix: string): string[] {
  return nginx
    .requests()
    .filter((l) => l.uri.startsWith(uriPrefix) && !l.uri.includes('/root.json.zst'))
    .map((l) => `${l.uri} ${l.status}`);
}

function cacheSnapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out[p.slice(dir.length)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

test('an unchanged index costs a 304; a republished one is fetched again', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx, `  - {url: "${nginx.url('/main/')}", name: main, keys: ["${w.publicKey}"]}\n`);
  const first = okSearch(await search(w, cfg));
  assert.deepEqual(names(first), ['app 1.0.0-1', 'libbar 2.0-1', 'libfoo 1.0.0-1,1.1.0-1']);
  assert.deepEqual(
    first.repositories.map((r) => [r.origin, r.serial, r.signed]),
    [['fetched', 1, true]],
  );
  const second = okSearch(await search(w, cfg));
  assert.deepEqual(
    second.repositories.map((r) => r.origin),
    ['not-modified'],
  );
  assert.deepEqual(names(second), names(first));
  assert.deepEqual(requestsFor(nginx, '/main/'), ['/main/index.json.zst 200', '/main/index.json.zst.sig 200', '/main/index.json.zst 304']);

  copyFileSync(fixturePath('eggs', 'app-1.1.0-1.egg'), join(w.main, 'app-1.1.0-1.egg'));
  const idx = await publish(w.main, ['--sign', w.key, '--json']);
  assert.equal((idx.json as { read: number }).read, 1, 'only the new egg is read');
  const third = okSearch(await search(w, cfg));
  assert.deepEqual(
    third.repositories.map((r) => [r.origin, r.serial]),
    [['fetched', 2]],
  );
  assert.ok(names(third).includes('app 1.0.0-1,1.1.0-1'));
});

test('redirects are followed within limits; to http, to file: and past 5 hops they are refused', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, {
    root: w.www,
    server: `
    location /moved/ { rewrite ^/moved/(.*)$ /main/$1 redirect; }
    location /twice/ { rewrite ^/twice/(.*)$ /moved/$1 permanent; }
    location /to-http/ { return 302 http://127.0.0.1:@HTTPPORT@/main/index.json.zst; }
    location /to-file/ { return 302 file:///etc/passwd; }
    location /loop/ { rewrite ^/loop/(.*)$ /loop/$1 redirect; }`,
  });
  const repo = (path: string): string => `  - {url: "${nginx.url(path)}", name: r, keys: ["${w.publicKey}"]}\n`;
  const moved = okSearch(await search(w, config(w, nginx, repo('/twice/'))));
  assert.equal(moved.repositories[0]!.packages, 4);
  assert.deepEqual(requestsFor(nginx, '/twice/').slice(0, 1), ['/twice/index.json.zst 301']);
  failed(await search(w, config(w, nginx, repo('/to-http/'))), 'REPO_REDIRECT_REFUSED', /redirects to plain http .* which is refused/);
  failed(await search(w, config(w, nginx, repo('/to-file/'))), 'REPO_REDIRECT_REFUSED', /redirects to file: .* which is refused/);
  failed(await search(w, config(w, nginx, repo('/loop/'))), 'REPO_REDIRECT_REFUSED', /redirects more than 5 times/);
  assert.equal(
    nginx.requests().filter((l) => l.uri.startsWith('/loop/')).length,
    6,
    'the first request (for the root, which a client asks for first) and 5 redirects, then it stops',
  );
  assert.equal(nginx.requests().filter((l) => l.port === nginx.httpPort).length, 0, 'nothing was sent over plain http');
});

test('basic auth: credentials from the environment work, wrong ones fail, and never appear in output or cache', async (t) => {
  const w = await world(t);
  const password = 'pw-Zq81-never-print-me';
  const hash = spawnSync('openssl', ['passwd', '-apr1', password], { encoding: 'utf8' }).stdout.trim();
  const nginx = await startNginx(t, {
    root: w.www,
    files: { htpasswd: `alice:${hash}\n` },
    server: `location /basic/ { alias ${w.main}/; auth_basic "eggs"; auth_basic_user_file @CONF@/htpasswd; }`,
  });
  const cfg = config(
    w,
    nginx,
    `  - {url: "${nginx.url('/basic/')}", name: private, keys: ["${w.publicKey}"], auth: {user: alice, password: {env: EGGS_PASSWORD}}}\n`,
  );
  const outputs: string[] = [];
  const good = await search(w, cfg, { EGGS_PASSWORD: password });
  outputs.push(good.r.stdout, good.r.stderr);
  assert.equal(okSearch(good).repositories[0]!.packages, 4);
  const verbose = await enpkg(w, ['info', 'app', '-v', '--config', cfg], { EGGS_PASSWORD: password });
  outputs.push(verbose.stdout, verbose.stderr);
  assert.equal(verbose.code, 0, verbose.stderr);
  const bad = await search(w, cfg, { EGGS_PASSWORD: 'wrong' });
  outputs.push(bad.r.stdout, bad.r.stderr);
  const err = failed(bad, 'REPO_AUTH_FAILED', /401 Unauthorized \(the credentials were refused\)/);
  assert.ok(!err.message.includes('wrong'));
  const unset = await search(w, cfg);
  failed(unset, 'REPO_AUTH_MISSING', /\$EGGS_PASSWORD, which is not set/);
  const shown = await enpkg(w, ['config', '--config', cfg], { EGGS_PASSWORD: password });
  outputs.push(shown.stdout, shown.stderr);
  assert.match(shown.stdout, /\*\*\* \(from \$EGGS_PASSWORD\)/);
  const b64 = Buffer.from(`alice:${password}`).toString('base64');
  for (const text of [...outputs, ...Object.keys(cacheSnapshot(join(w.dir, 'cache'))), ...readAll(join(w.dir, 'cache'))]) {
    assert.ok(!text.includes(password) && !text.includes(b64), `a credential leaked into: ${text.slice(0, 300)}`);
  }
});

function readAll(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string): void => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(readFileSync(p, 'latin1'));
    }
  };
  walk(dir);
  return out;
}

test('token auth from a file; the token is dropped when a redirect changes the origin', async (t) => {
  const w = await world(t);
  const token = 'tok-5f1c-secret';
  const nginx = await startNginx(t, {
    root: w.www,
    server: `
    location /token/ { if ($http_authorization != "Bearer ${token}") { return 401; } alias ${w.main}/; }
    location /hop/ {
      if ($http_authorization != "Bearer ${token}") { return 401; }
      rewrite ^/hop/(.*)$ https://127.0.0.1:@ALTPORT@/main/$1 redirect;
    }`,
  });
  const tokenFile = join(w.dir, 'token');
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  const repo = (path: string): string =>
    `  - {url: "${nginx.url(path)}", name: t, keys: ["${w.publicKey}"], auth: {token: {file: ${JSON.stringify(tokenFile)}}}}\n`;
  const direct = await search(w, config(w, nginx, repo('/token/')));
  assert.equal(okSearch(direct).repositories[0]!.packages, 4);
  assert.ok(
    nginx
      .requests()
      .filter((l) => l.uri.startsWith('/token/'))
      .every((l) => l.auth && (l.status === 200 || (l.status === 404 && l.uri.endsWith('/root.json.zst')))),
  );
  const hop = await search(w, config(w, nginx, repo('/hop/'), 'hop.yaml'));
  assert.equal(okSearch(hop).repositories[0]!.packages, 4);
  const alt = nginx.requests().filter((l) => l.port === nginx.altPort);
  assert.ok(alt.length >= 2, 'the index and its signature came from the other origin');
  assert.ok(
    alt.every((l) => !l.auth),
    'no Authorization header crossed to the other origin',
  );
  for (const text of [direct.r.stdout, direct.r.stderr, hop.r.stdout, hop.r.stderr]) assert.ok(!text.includes(token));
  const wrong = join(w.dir, 'wrong-token');
  writeFileSync(wrong, 'nope');
  const bad = await search(
    w,
    config(w, nginx, `  - {url: "${nginx.url('/token/')}", name: t, auth: {token: {file: ${JSON.stringify(wrong)}}}}\n`, 'bad.yaml'),
  );
  failed(bad, 'REPO_AUTH_FAILED', /401/);
});

test('404 is final (no retries); 500 is retried with back-off, then reported', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www, server: 'location /broken/ { return 500; }' });
  failed(
    await search(w, config(w, nginx, `  - {url: "${nginx.url('/nothing/')}", name: gone}\n`)),
    'REPO_NOT_FOUND',
    /index\.json\.zst was not found \(404\)/,
  );
  assert.deepEqual(requestsFor(nginx, '/nothing/'), ['/nothing/index.json.zst 404', '/nothing/index.json 404']);
  const err = failed(
    await search(w, config(w, nginx, `  - {url: "${nginx.url('/broken/')}", name: broken}\n`)),
    'REPO_HTTP_ERROR',
    /HTTP 500 \(after 3 attempts\)/,
  );
  // The root is what a client asks for first; a failing server fails there.
  assert.match(err.message, /https:\/\/127\.0\.0\.1:\d+\/broken\/root\.json\.zst/);
  assert.deepEqual(
    nginx
      .requests()
      .filter((l) => l.uri.startsWith('/broken/'))
      .map((l) => `${l.uri} ${l.status}`),
    ['/broken/root.json.zst 500', '/broken/root.json.zst 500', '/broken/root.json.zst 500'],
  );
  // An index larger than network.max_index_size is refused (Content-Length), not retried.
  const small = config(w, nginx, `  - {url: "${nginx.url('/main/')}", name: big}\n`, 'small.yaml');
  writeFileSync(small, readFileSync(small, 'utf8').replace('network:\n', 'network:\n  max_index_size: 100\n'));
  failed(await search(w, small), 'REPO_TOO_LARGE', /is larger than the 100 bytes allowed/);
  assert.deepEqual(requestsFor(nginx, '/main/'), ['/main/index.json.zst 200']);
});

/** A TLS server (the test CA's certificate) that completes the handshake and then never answers. */
async function stallingServer(t: TestContext, opts: { tls: boolean }): Promise<{ port: number; connections: () => number }> {
  const ca = testCA();
  const sockets: Socket[] = [];
  let connections = 0;
  const onSocket = (s: Socket): void => {
    connections++;
    sockets.push(s);
    s.on('error', () => {});
  };
  const server = opts.tls
    ? createTlsServer({ cert: readFileSync(ca.certFile), key: readFileSync(ca.keyFile) }, onSocket)
    : createTcpServer(onSocket);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

test('a server that stalls: the idle timeout ends each attempt (and a mute one the connect timeout)', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const stall = await stallingServer(t, { tls: true });
  const stalled = config(w, nginx, `  - {url: "https://127.0.0.1:${stall.port}/main/", name: slow}\n`);
  failed(await search(w, stalled), 'REPO_TIMEOUT', /the server sent nothing for 0\.50 s \(idle timeout\) \(after 3 attempts\)/);
  assert.ok(stall.connections() >= 3);
  // The overall timeout bounds one file, retries included.
  const overall = config(w, nginx, `  - {url: "https://127.0.0.1:${stall.port}/main/", name: slow}\n`, 'overall.yaml');
  writeFileSync(
    overall,
    readFileSync(overall, 'utf8').replace('idle_timeout: 0.5', 'idle_timeout: 30').replace('\n  timeout: 30', '\n  timeout: 0.4'),
  );
  failed(await search(w, overall), 'REPO_TIMEOUT', /not done within 0\.40 s \(overall timeout\)/);
  const mute = await stallingServer(t, { tls: false });
  failed(
    await search(w, config(w, nginx, `  - {url: "https://127.0.0.1:${mute.port}/main/", name: mute}\n`, 'mute.yaml')),
    'REPO_TIMEOUT',
    /timeout/,
  );
});

test('mirrors are tried in order when one fails; all failing falls back to the cache with a warning', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www, server: 'location /broken/ { return 503; }' });
  const stall = await stallingServer(t, { tls: true });
  const cfg = config(
    w,
    nginx,
    `  - url: "${nginx.url('/broken/')}"
    name: main
    keys: ["${w.publicKey}"]
    mirrors: ["https://127.0.0.1:${stall.port}/main/", "${nginx.url('/main/')}"]
`,
  );
  const j = okSearch(await search(w, cfg));
  assert.equal(j.repositories[0]!.packages, 4);
  const failovers = j.warnings.filter((x) => x.code === 'MIRROR_FAILOVER');
  assert.equal(failovers.length, 2, JSON.stringify(j.warnings));
  assert.match(failovers[0]!.message, /HTTP 503 \(after 3 attempts\); trying mirror https:\/\/127\.0\.0\.1:\d+\/main\//);
  assert.match(failovers[1]!.message, /idle timeout.*; trying next mirror/);
  assert.deepEqual(requestsFor(nginx, '/main/'), ['/main/index.json.zst 200', '/main/index.json.zst.sig 200']);

  // Every location down: the cached index (from the mirror) is used, with a warning.
  const down = config(
    w,
    nginx,
    `  - url: "${nginx.url('/broken/')}"\n    name: main\n    keys: ["${w.publicKey}"]\n` +
      `    mirrors: ["https://127.0.0.1:${stall.port}/main/"]\n`,
    'down.yaml',
  );
  const cached = okSearch(await search(w, down));
  assert.deepEqual(
    cached.repositories.map((r) => [r.origin, r.packages]),
    [['cache', 4]],
  );
  assert.ok(
    cached.warnings.some((x) => x.code === 'INDEX_FROM_CACHE'),
    JSON.stringify(cached.warnings),
  );

  // A mirror serving an older serial than the one accepted is a rollback, not a fallback.
  const old = join(w.www, 'old');
  mkdirSync(old);
  for (const f of ['index.json.zst', 'index.json.zst.sig']) copyFileSync(join(w.main, f), join(old, f));
  const again = await publish(w.main, ['--sign', w.key, '-q']);
  assert.equal(again.code, 0);
  okSearch(await search(w, cfg));
  const rollback = config(
    w,
    nginx,
    `  - url: "${nginx.url('/broken/')}"\n    name: main\n    keys: ["${w.publicKey}"]\n    mirrors: ["${nginx.url('/old/')}"]\n`,
    'rollback.yaml',
  );
  failed(await search(w, rollback), 'INDEX_ROLLBACK', /serial 1 is lower than serial 2 already accepted/);
});

test('plain http is refused unless the repository is marked insecure', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const url = `http://127.0.0.1:${nginx.httpPort}/main/`;
  failed(await search(w, config(w, nginx, `  - {url: "${url}", name: plain}\n`)), 'REPO_INSECURE', /plain http/);
  assert.equal(nginx.requests().length, 0);
  const j = okSearch(
    await search(w, config(w, nginx, `  - {url: "${url}", name: plain, insecure: true, keys: ["${w.publicKey}"]}\n`, 'insecure.yaml')),
  );
  assert.equal(j.repositories[0]!.signed, true);
  failed(await search(w, config(w, nginx, '  - "/nonexistent"\n', 'x.yaml'), {}, ['--repo', url]), 'REPO_INSECURE', /--repo/);
});

test('HTTPS_PROXY is used (CONNECT tunnel), and NO_PROXY bypasses it', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const tunnels: string[] = [];
  const proxy = createHttpServer();
  proxy.on('connect', (req, client: Socket, head: Buffer) => {
    tunnels.push(req.url ?? '');
    const [host, port] = (req.url ?? '').split(':');
    if (host !== '127.0.0.1') {
      client.end('HTTP/1.1 403 Forbidden\r\n\r\n');
      return;
    }
    const upstream = connect(Number(port), host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => (proxy.closeAllConnections(), proxy.close(resolve))));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const cfg = config(w, nginx, `  - {url: "${nginx.url('/main/')}", name: main, keys: ["${w.publicKey}"]}\n`);
  okSearch(await search(w, cfg, { HTTPS_PROXY: proxyUrl }));
  assert.ok(tunnels.length >= 1 && tunnels.every((u) => u === `127.0.0.1:${nginx.port}`), JSON.stringify(tunnels));
  const before = tunnels.length;
  okSearch(await search(w, cfg, { HTTPS_PROXY: proxyUrl, NO_PROXY: '127.0.0.1' }));
  assert.equal(tunnels.length, before, 'NO_PROXY: no tunnel');
});

test('a hostile index over https is refused; the cached index is unchanged and still used offline', async (t) => {
  const w = await world(t);
  const nginx = await startNginx(t, { root: w.www });
  const cfg = config(w, nginx, `  - {url: "${nginx.url('/main/')}", name: main, keys: ["${w.publicKey}"]}\n`);
  okSearch(await search(w, cfg));
  const cache = join(w.dir, 'cache');
  const before = cacheSnapshot(cache);
  // The publisher's key is not used: a new index signed by someone else.
  const other = join(w.dir, 'other.key');
  assert.equal((await runEnpkg(['repo', 'keygen', other, '-q'])).code, 0);
  copyFileSync(fixturePath('eggs', 'app-1.1.0-1.egg'), join(w.main, 'app-1.1.0-1.egg'));
  assert.equal((await publish(w.main, ['--sign', other, '-q'])).code, 0);
  failed(await search(w, cfg), 'INDEX_SIGNATURE_INVALID', /does not verify with any trusted key/);
  assert.deepEqual(cacheSnapshot(cache), before);
  const offline = okSearch(await search(w, cfg, {}, ['--offline']));
  assert.deepEqual(
    offline.repositories.map((r) => [r.origin, r.serial]),
    [['cache', 1]],
  );
  assert.ok(!names(offline).includes('app 1.0.0-1,1.1.0-1'));
  // Without --json the error is one line and a hint on stderr.
  const plain = await enpkg(w, ['search', '--config', cfg]);
  assert.equal(plain.code, 1);
  assert.match(
    plain.stderr,
    new RegExp(
      /^enpkg: error: the index of main \(https:\/\/127\.0\.0\.1:\d+\/main\/index\.json\.zst\): /.source +
        /the signature does not verify with any trusted key\n {2}hint: /.source,
    ),
  );
});
