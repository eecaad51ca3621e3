/**
 * Configuration: where the file is found, what each key accepts, errors naming the key and the file,
 * command-line overrides, secrets never shown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configToJson, findConfigFile, loadConfig, PkgError } from 'enpkg';
import { tmp } from './repo-helpers.js';

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
  return path;
}

function invalid(text: string, key: string, pattern: RegExp, t: { after(fn: () => unknown): void }): void {
  const file = write(join(tmp(t), 'config.yaml'), text);
  assert.throws(
    () => loadConfig({ configFile: file, env: {} }),
    (e: unknown) => {
      assert.ok(e instanceof PkgError, String(e));
      assert.ok(['CONFIG_INVALID', 'REPO_INSECURE', 'REPO_URL_INVALID'].includes(e.code), e.code);
      assert.ok(e.message.startsWith(file), `names the file: ${e.message}`);
      assert.ok(e.message.includes(key), `names the key ${key}: ${e.message}`);
      assert.match(e.message, pattern);
      assert.ok(e.hint);
      return true;
    },
  );
}

test('the file is the first of --config, ENPKG_CONFIG, <prefix>/.enpkg/config.yaml, the user config dir', (t) => {
  const dir = tmp(t);
  const explicit = write(join(dir, 'explicit.yaml'), '');
  const fromEnv = write(join(dir, 'env.yaml'), '');
  const prefix = join(dir, 'prefix');
  const inPrefix = write(join(prefix, '.enpkg', 'config.yaml'), '');
  const xdg = join(dir, 'xdg');
  const user = write(join(xdg, 'enpkg', 'config.yaml'), '');
  const home = join(dir, 'home');
  const env = { ENPKG_CONFIG: fromEnv, XDG_CONFIG_HOME: xdg };
  assert.equal(findConfigFile({ configFile: explicit, env, prefix, home }), explicit);
  assert.equal(findConfigFile({ env, prefix, home }), fromEnv);
  assert.equal(findConfigFile({ env: { XDG_CONFIG_HOME: xdg }, prefix, home }), inPrefix);
  assert.equal(findConfigFile({ env: { XDG_CONFIG_HOME: xdg, ENPKG_PREFIX: prefix }, home }), inPrefix);
  assert.equal(findConfigFile({ env: { XDG_CONFIG_HOME: xdg }, home }), user);
  write(join(home, '.config', 'enpkg', 'config.yaml'), '');
  assert.equal(findConfigFile({ env: {}, home }), join(home, '.config', 'enpkg', 'config.yaml'));
  assert.equal(findConfigFile({ env: {}, home: join(dir, 'nobody') }), null);
});

test('a --config file that does not exist is an error; no file at all gives the defaults', (t) => {
  const dir = tmp(t);
  assert.throws(
    () => loadConfig({ configFile: join(dir, 'missing.yaml'), env: {} }),
    (e: unknown) => e instanceof PkgError && e.code === 'CONFIG_NOT_FOUND',
  );
  const cfg = loadConfig({ env: { XDG_CACHE_HOME: join(dir, 'cache') }, home: join(dir, 'home') });
  assert.equal(cfg.file, null);
  assert.equal(cfg.cacheDir, join(dir, 'cache', 'enpkg'));
  assert.equal(cfg.parallelDownloads, 4);
  assert.deepEqual(cfg.repositories, []);
  assert.equal(loadConfig({ env: {}, home: join(dir, 'home') }).cacheDir, join(dir, 'home', '.cache', 'enpkg'));
});

test('every documented key is read', (t) => {
  const dir = tmp(t);
  const file = write(
    join(dir, 'etc', 'config.yaml'),
    `prefix: ../opt
python: 3.10
cache_dir: cache
parallel_downloads: 8
script_timeout: 60
autoupdate: true
network: {connect_timeout: 2, idle_timeout: 1.5, timeout: 20, retries: 1, retry_delay: 0.1, ca_file: ca.pem, max_index_size: 64 MiB}
repositories:
  - https://eggs.example.com/free
  - url: https://eggs.example.com/acme/
    name: acme
    mirrors: [https://mirror.example.org/acme/, ./local-mirror]
    keys: [HnXwJK4Ss5G1oBKlXB9FIircDX/64lHXxMS/MtF95Uo=]
    auth: {token: {env: ACME_TOKEN}}
  - url: http://intranet.example/eggs/
    insecure: true
    auth: {user: alice, password: {file: ~/.secret}}
  - path: eggs
    name: local
`,
  );
  const cfg = loadConfig({ configFile: file, env: {}, home: '/home/u' });
  assert.equal(cfg.prefix, join(dir, 'opt'));
  assert.equal(cfg.prefixSource, file);
  assert.equal(cfg.python, '3.10', 'kept as written, not read as the number 3.1');
  assert.equal(cfg.cacheDir, join(dir, 'etc', 'cache'));
  assert.deepEqual([cfg.parallelDownloads, cfg.scriptTimeoutSeconds, cfg.autoupdate], [8, 60, true]);
  assert.deepEqual(cfg.network, {
    connectTimeoutMs: 2000,
    idleTimeoutMs: 1500,
    totalTimeoutMs: 20000,
    retries: 1,
    retryDelayMs: 100,
    caFile: join(dir, 'etc', 'ca.pem'),
    maxIndexSize: 64 * 2 ** 20,
    proxy: null,
    verifyTls: true,
  });
  const [free, acme, intranet, local] = cfg.repositories;
  assert.deepEqual(free!.location, { kind: 'http', url: 'https://eggs.example.com/free/' });
  assert.equal(free!.name, 'https://eggs.example.com/free/');
  assert.equal(acme!.name, 'acme');
  assert.deepEqual(acme!.mirrors, [
    { kind: 'http', url: 'https://mirror.example.org/acme/' },
    { kind: 'dir', path: join(dir, 'etc', 'local-mirror') },
  ]);
  assert.deepEqual(acme!.auth, { kind: 'token', token: { env: 'ACME_TOKEN' } });
  assert.equal(intranet!.insecure, true);
  assert.deepEqual(intranet!.auth, { kind: 'basic', user: 'alice', password: { file: '/home/u/.secret' } });
  assert.deepEqual(local!.location, { kind: 'dir', path: join(dir, 'etc', 'eggs') });
});

test('an unknown key or a bad value is an error naming the key and the file', (t) => {
  invalid('colour: blue\n', 'colour', /unknown key/, t);
  invalid('network: {retries: many}\n', 'network.retries', /expected a whole number from 0 to 20, got string "many"/, t);
  invalid('network: {speed: 3}\n', 'network.speed', /unknown key/, t);
  invalid('parallel_downloads: 0\n', 'parallel_downloads', /from 1 to 64/, t);
  invalid('autoupdate: sometimes\n', 'autoupdate', /true or false/, t);
  invalid('python: three\n', 'python', /Python version X\.Y/, t);
  invalid('repositories: https://x/\n', 'repositories', /expected a list/, t);
  invalid('repositories:\n  - {url: "https://x/", colour: red}\n', 'repositories[0].colour', /unknown key/, t);
  invalid('repositories:\n  - {name: x}\n', 'repositories[0]', /exactly one of url or path/, t);
  invalid('repositories:\n  - {url: "https://x/", keys: "abc"}\n', 'repositories[0].keys', /expected a list/, t);
  invalid('repositories:\n  - {url: "https://x/", name: a}\n  - {url: "https://y/", name: a}\n', 'repositories[1].name', /used twice/, t);
  invalid('network: {max_index_size: lots}\n', 'network.max_index_size', /expected a size/, t);
  invalid('prefix: [a]\n', 'prefix', /expected a non-empty string/, t);
  invalid('key: [unclosed\n', '', /not valid YAML/, t);
});

test('secrets never live in the configuration itself; URLs carry no credentials; http needs insecure', (t) => {
  invalid(
    'repositories:\n  - {url: "https://x/", auth: {token: s3cret}}\n',
    'repositories[0].auth.token',
    /a secret written in the configuration file/,
    t,
  );
  invalid(
    'repositories:\n  - {url: "https://x/", auth: {user: a, password: hunter2}}\n',
    'repositories[0].auth.password',
    /a secret written/,
    t,
  );
  invalid(
    'repositories:\n  - {url: "https://x/", auth: {token: {env: A, file: b}}}\n',
    'repositories[0].auth.token',
    /exactly one of env or file/,
    t,
  );
  invalid('repositories:\n  - {url: "https://x/", auth: {user: a}}\n', 'repositories[0].auth', /token, or user and password/, t);
  invalid('repositories:\n  - "https://bob:hunter2@x/"\n', 'repositories[0]', /has credentials in it/, t);
  invalid('repositories:\n  - "http://x/eggs/"\n', 'repositories[0]', /plain http/, t);
  invalid('repositories:\n  - "ftp://x/eggs/"\n', 'repositories[0]', /unsupported scheme "ftp:"/, t);
  // The credentials themselves are not repeated in the message.
  const file = write(join(tmp(t), 'c.yaml'), 'repositories:\n  - "https://bob:hunter2@x/"\n');
  assert.throws(
    () => loadConfig({ configFile: file, env: {} }),
    (e: unknown) => e instanceof PkgError && !e.message.includes('hunter2') && !JSON.stringify(e.toJSON()).includes('hunter2'),
  );
});

test('--prefix wins over ENPKG_PREFIX, which wins over the file', (t) => {
  const dir = tmp(t);
  const file = write(join(dir, 'c.yaml'), 'prefix: /from/file\n');
  assert.equal(loadConfig({ configFile: file, env: {} }).prefix, '/from/file');
  assert.equal(loadConfig({ configFile: file, env: { ENPKG_PREFIX: '/from/env' } }).prefix, '/from/env');
  const cfg = loadConfig({ configFile: file, env: { ENPKG_PREFIX: '/from/env' }, prefix: '/from/flag' });
  assert.deepEqual([cfg.prefix, cfg.prefixSource], ['/from/flag', '--prefix']);
});

test('--repo replaces the configured repositories; naming a configured one keeps its keys and auth', (t) => {
  const dir = tmp(t);
  const file = write(
    join(dir, 'c.yaml'),
    'repositories:\n' +
      '  - {url: "https://a.example/", name: a, keys: [HnXwJK4Ss5G1oBKlXB9FIircDX/64lHXxMS/MtF95Uo=]}\n' +
      '  - {url: "https://b.example/", name: b}\n',
  );
  const byName = loadConfig({ configFile: file, env: {}, repos: ['a'] });
  assert.deepEqual(
    byName.repositories.map((r) => [r.name, r.keys.length]),
    [['a', 1]],
  );
  const byUrl = loadConfig({ configFile: file, env: {}, repos: ['https://a.example'] });
  assert.deepEqual(
    byUrl.repositories.map((r) => [r.name, r.keys.length]),
    [['a', 1]],
  );
  const other = loadConfig({ configFile: file, env: {}, repos: ['./here', 'https://c.example/x'], cwd: dir });
  assert.deepEqual(
    other.repositories.map((r) => r.location),
    [
      { kind: 'dir', path: join(dir, 'here') },
      { kind: 'http', url: 'https://c.example/x/' },
    ],
  );
  assert.throws(
    () => loadConfig({ configFile: file, env: {}, repos: ['http://c.example/'] }),
    (e: unknown) => e instanceof PkgError && e.code === 'REPO_INSECURE' && e.message.includes('--repo'),
  );
});

test('the effective configuration shows where secrets come from, never their values', (t) => {
  const dir = tmp(t);
  const file = write(
    join(dir, 'c.yaml'),
    'repositories:\n' +
      '  - {url: "https://a.example/", auth: {token: {env: TOKEN}}}\n' +
      '  - {url: "https://b.example/", auth: {user: {env: U}, password: {file: /run/pw}}}\n',
  );
  const shown = JSON.stringify(configToJson(loadConfig({ configFile: file, env: { TOKEN: 'tok-123-secret', U: 'alice' } })));
  assert.ok(!shown.includes('tok-123-secret'));
  assert.match(shown, /\*\*\* \(from \$TOKEN\)/);
  assert.match(shown, /\*\*\* \(from \/run\/pw\)/);
});
