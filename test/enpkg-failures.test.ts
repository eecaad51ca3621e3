/**
 * enpkg's failure paths from the command line: each ends in a clear error (named thing, documented
 * exit status) with the prefix, the cache and the state database unchanged, and nothing raw from
 * outside reaches the terminal.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, createReadStream, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { buildBenchEgg } from '#fixtures';
import { lockPrefix } from 'egginst';
import { matchSnapshot, runEnpkg, type Setup, setup, tempDir, treeListing } from './helpers/index.js';

/**
 * Everything a failure must leave as it was: the prefix's files, and its state database as enpkg
 * reads it (installed packages, marks, every revision). The database file's bytes are not compared:
 * accepting a repository's newer index serial is a write that a failed install keeps, by design.
 */
async function snapshot(prefix: string, env: Record<string, string> = {}): Promise<string> {
  if (!existsSync(prefix)) return 'absent';
  const files = (await treeListing(prefix)).filter((l) => !l.includes('".enpkg'));
  const list = await runEnpkg(['list', '--json', '--prefix', prefix], { env });
  const history = await runEnpkg(['history', '--json', '--prefix', prefix], { env });
  return JSON.stringify({ files, list: list.json, history: history.json });
}

const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/;

/**
 * An http repository (a configuration file naming it) serving `w.repo`, whose file `stall` sends
 * its first bytes and then nothing, until the client gives up.
 */
async function stallingRepository(t: TestContext, w: Setup, stall: string): Promise<string> {
  const server = createServer((req, res) => {
    const file = join(w.repo, decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname));
    if (!existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    if (!file.endsWith(stall)) {
      createReadStream(file).pipe(res);
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    res.write(Buffer.alloc(16));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => server.closeAllConnections());
  t.after(() => server.close());
  const port = (server.address() as AddressInfo).port;
  const config = join(w.root, 'config.yaml');
  writeFileSync(config, `repositories:\n  - {url: "http://127.0.0.1:${port}/", insecure: true}\n`);
  return config;
}

test('Ctrl-C or SIGTERM during a download: exit 130, no partial file, nothing changed', async (t) => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const w = await setup(t, ['libbar-2.0-1']);
    const config = await stallingRepository(t, w, 'libbar-2.0-1.egg');
    mkdirSync(w.prefix, { recursive: true });
    await runEnpkg(['list', '--prefix', w.prefix], { env: w.env });
    const cache = join(w.env.XDG_CACHE_HOME!, 'enpkg', 'eggs');
    const before = await snapshot(w.prefix, w.env);
    let sent = false;
    const r = await runEnpkg(['install', 'libbar', '--prefix', w.prefix, '--config', config, '-y'], {
      env: w.env,
      timeoutMs: 60_000,
      onSpawn: (child) => {
        const poll = setInterval(() => {
          // Signal once the download has started: a .partial file is in the cache.
          const partial = existsSync(cache) && readdirSync(cache, { recursive: true }).some((f) => String(f).endsWith('.partial'));
          if (partial && !sent) {
            sent = true;
            child.kill(signal);
          }
        }, 20);
        child.on('close', () => clearInterval(poll));
      },
    });
    assert.ok(sent, `${signal} was sent during the download`);
    assert.equal(r.code, 130, `${signal}: ${r.stderr}`);
    assert.equal(r.signal, null);
    assert.match(r.stderr, /^enpkg: error: interrupted while fetching eggs/m);
    const left = existsSync(cache) ? readdirSync(cache, { recursive: true }).map(String) : [];
    assert.deepEqual(
      left.filter((f) => f.includes('.partial')),
      [],
      'no partial file remains',
    );
    assert.equal(await snapshot(w.prefix, w.env), before, 'the prefix and its state are unchanged');
  }
});

test('Ctrl-C while the repository index is coming: exit 130 at once, nothing cached or changed', async (t) => {
  const w = await setup(t, ['libbar-2.0-1']);
  // The root of the sharded form is what a client fetches first.
  const config = await stallingRepository(t, w, 'root.json.zst');
  mkdirSync(w.prefix, { recursive: true });
  await runEnpkg(['list', '--prefix', w.prefix], { env: w.env });
  const before = await snapshot(w.prefix, w.env);
  const index = join(w.env.XDG_CACHE_HOME!, 'enpkg', 'index');
  const cachedBefore = existsSync(index) ? readdirSync(index, { recursive: true }).length : 0;
  const r = await runEnpkg(['install', 'libbar', '--prefix', w.prefix, '--config', config, '-y'], {
    env: w.env,
    timeoutMs: 30_000,
    onSpawn: (child) => void setTimeout(() => child.kill('SIGINT'), 1500),
  });
  assert.equal(r.timedOut, false);
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /^enpkg: error: the index root of http:.*: interrupted/m);
  assert.equal(existsSync(index) ? readdirSync(index, { recursive: true }).length : 0, cachedBefore, 'nothing new in the index cache');
  assert.equal(await snapshot(w.prefix, w.env), before);
});

test('empty arguments are usage errors (exit 2) that name the option; nothing is changed', async (t) => {
  const w = await setup(t);
  assert.equal((await w.enpkg(['install', 'app', '-y'])).code, 0);
  const before = await snapshot(w.prefix, w.env);
  const cases: [string[], RegExp][] = [
    [['revert', '', '--prefix', w.prefix, '-y'], /a revision is a whole number >= 0, not ""/],
    [['revert', '1.5', '--prefix', w.prefix, '-y'], /a revision is a whole number >= 0, not "1\.5"/],
    [['revert', '-1', '--prefix', w.prefix, '-y'], /unknown option '-1'|a revision is a whole number/],
    [['revert', '0x1', '--prefix', w.prefix, '-y'], /a revision is a whole number >= 0, not "0x1"/],
    [['list', '--prefix', ''], /--prefix cannot be empty/],
    [['install', 'app', '--prefix', w.prefix, '--repo', ''], /--repo cannot be empty/],
    [['install', '-r', '', '--prefix', w.prefix], /-r cannot be empty/],
    [['remove', 'app', '--prefix', '', '-y'], /--prefix cannot be empty/],
  ];
  for (const [args, message] of cases) {
    const r = await runEnpkg(args, { env: { ...w.env, ENPKG_PREFIX: w.prefix } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
    const json = await runEnpkg([...args, '--json'], { env: { ...w.env, ENPKG_PREFIX: w.prefix } });
    assert.equal(json.code, 2, `${args.join(' ')} --json`);
    const body = json.json as { ok: boolean; error: { code: string; message: string } };
    assert.equal(body.ok, false);
    assert.equal(body.error.code, 'USAGE');
  }
  assert.equal(await snapshot(w.prefix, w.env), before);
});

test('usage errors: exit 2, and with --json one JSON error on stdout', async (t) => {
  const w = await setup(t);
  const r = await w.enpkg(['install', '--bogus', '--json']);
  assert.equal(r.code, 2);
  assert.deepEqual(Object.keys(r.json as object), ['ok', 'error']);
  assert.equal((r.json as { error: { code: string } }).error.code, 'USAGE');
  assert.match((r.json as { error: { message: string } }).error.message, /unknown option '--bogus'/);
  const text = await w.enpkg(['mark', 'app']);
  assert.equal(text.code, 2, text.stderr);
  assert.match(text.stderr, /give exactly one of --auto and --manual/);
});

test('a prefix that is a file: PREFIX_INVALID naming it, exit 1, no stack trace', async (t) => {
  const root = await tempDir(t, 'enpkg-prefix-file-');
  const prefix = join(root, 'file');
  writeFileSync(prefix, 'not a directory\n');
  for (const args of [['list'], ['install', 'app', '-y']]) {
    const r = await runEnpkg([...args, '--prefix', prefix], { env: { HOME: root, XDG_CACHE_HOME: join(root, 'cache') } });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^enpkg: error: cannot use ${prefix} as the prefix: it is not a directory`));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
});

test('--no-deps refuses an egg built for another platform, as the resolver does', async (t) => {
  const w = await setup(t, []);
  await buildBenchEgg(join(w.repo, 'winonly-1.0-1.egg'), { files: 2, totalBytes: 100, platform: 'win32', root: 'winonly' });
  assert.equal((await runEnpkg(['repo', 'index', w.repo], { env: w.env })).code, 0);
  mkdirSync(w.prefix);
  const before = await snapshot(w.prefix, w.env);
  for (const flags of [['--no-deps'], []]) {
    const r = await w.enpkg(['install', 'winonly', '-y', ...flags]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stderr, /winonly .*is for platform win32/);
  }
  assert.equal(await snapshot(w.prefix, w.env), before);
});

test('hostile text from a requirements file and from a lock holder is escaped on the terminal, raw in JSON', async (t) => {
  const w = await setup(t);
  const file = join(w.root, 'reqs.txt');
  writeFileSync(file, 'app\x1b[2J\u009b31m\u202e 1.0.0-1 extra\n');
  const r = await w.enpkg(['install', '-r', file, '-y']);
  assert.equal(r.code, 1);
  assert.doesNotMatch(r.stderr, RAW_CONTROL, 'no raw control character reaches the terminal');
  assert.match(r.stderr, /\\u001b\[2J\\u009b31m\\u202e/);
  const json = await w.enpkg(['install', '-r', file, '-y', '--json']);
  assert.match((json.json as { error: { message: string } }).error.message, /\x1b\[2J\u009b31m\u202e/, 'JSON carries the raw value');
  assert.doesNotMatch(json.stdout, RAW_CONTROL, 'the JSON text itself is escaped');

  mkdirSync(w.prefix, { recursive: true });
  const lock = await lockPrefix(w.prefix, { command: 'evil \x1b]0;owned\x07 \u009b2J' });
  try {
    const locked = await w.enpkg(['list']);
    assert.equal(locked.code, 1);
    assert.match(locked.stderr, /is locked by .*evil \\u001b\]0;owned\\u0007 \\u009b2J/);
    assert.doesNotMatch(locked.stderr, RAW_CONTROL);
  } finally {
    await lock.release();
  }
});

test('snapshot: human output (exit status, stdout, stderr) of install, update, remove, revert, list, history, a conflict', async (t) => {
  const w = await setup(t);
  const normal = (text: string): string =>
    text
      .replaceAll(w.prefix, '<prefix>')
      .replaceAll(w.repo, '<repo>')
      .replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/g, '<time>')
      .replace(/\((\w+)\): enpkg/g, '(<user>): enpkg');
  const runs: string[] = [];
  for (const args of [
    ['install', 'app-1.0.0', '-y'],
    ['install', 'app'],
    ['update', 'app', '-y'],
    ['install', 'libfoo-1.0.0', '-y'],
    ['list'],
    ['remove', 'libbar', '-y'],
    ['revert', '2', '-y'],
    ['install', 'upg', '-y'],
    ['install', 'clash', '-y'],
    ['history'],
  ]) {
    const r = await w.enpkg(args);
    runs.push(`$ enpkg ${args.join(' ')}\nexit ${r.code}\n--- stdout\n${normal(r.stdout)}--- stderr\n${normal(r.stderr)}`);
  }
  matchSnapshot('cli-output.txt', `${runs.join('\n')}`);
});

const noStackTrace = (r: { stderr: string }): void => assert.doesNotMatch(r.stderr, /\n\s+at |internal error/, 'no stack trace, no bug');

test('another program holding state.db: STATE_BUSY before anything moves, exit 1', { timeout: 60_000 }, async (t) => {
  const w = await setup(t);
  assert.equal((await w.enpkg(['install', 'libbar', '-y'])).code, 0);
  const before = await snapshot(w.prefix, w.env);
  const { default: Database } = await import('better-sqlite3');
  const db = new Database(join(w.prefix, '.enpkg', 'state.db'));
  db.exec('BEGIN EXCLUSIVE');
  let r;
  try {
    r = await w.enpkg(['install', 'data', '-y']);
  } finally {
    db.exec('ROLLBACK');
    db.close();
  }
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /^enpkg: error: .*state\.db/m);
  noStackTrace(r);
  assert.equal(await snapshot(w.prefix, w.env), before, 'nothing moved');
  assert.equal((await w.enpkg(['install', 'data', '-y'])).code, 0, 'the same install works once the lock is gone');
});

test('a prefix the user cannot write: a clear error naming it, exit 1, nothing changed', async (t) => {
  const w = await setup(t);
  assert.equal((await w.enpkg(['install', 'libbar', '-y'])).code, 0);
  const before = await snapshot(w.prefix, w.env);
  // Another user (root ignores modes): a cache of its own, the prefix and repository as they are.
  const cache = join(w.root, 'nobody-cache');
  mkdirSync(cache, { mode: 0o777 });
  chmodSync(w.root, 0o755);
  const args = ['install', 'data', '-y', '--prefix', w.prefix, '--repo', w.repo];
  const r = await runEnpkg(args, { env: { HOME: cache, XDG_CACHE_HOME: cache, XDG_CONFIG_HOME: cache }, uid: 65534, gid: 65534 });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, new RegExp(`^enpkg: error: .*${w.prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
  noStackTrace(r);
  assert.equal(await snapshot(w.prefix, w.env), before);
});

test('a YAML alias bomb and a YAML syntax error in the configuration: CONFIG_INVALID naming the file, exit 1', async (t) => {
  const w = await setup(t);
  const bomb = join(w.root, 'bomb.yaml');
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    levels.push(
      `${String.fromCharCode(97 + i)}: &${String.fromCharCode(97 + i)} [${Array(9)
        .fill(`*${String.fromCharCode(96 + i)}`)
        .join(',')}]`,
    );
  }
  writeFileSync(bomb, `${levels.join('\n')}\n`);
  const broken = join(w.root, 'broken.yaml');
  writeFileSync(broken, 'repositories: [\x1b[31m\n  - : :\n');
  for (const file of [bomb, broken]) {
    const r = await runEnpkg(['list', '--prefix', w.prefix, '--config', file], { env: w.env });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, new RegExp(`^enpkg: error: .*${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    assert.doesNotMatch(r.stderr, RAW_CONTROL);
    noStackTrace(r);
    const json = await runEnpkg(['list', '--prefix', w.prefix, '--config', file, '--json'], { env: w.env });
    assert.equal((json.json as { error: { code: string } }).error.code, 'CONFIG_INVALID');
  }
});

test('--repo with a password never shows it; a FIFO index is refused at once; cache_dir that is a file is named', async (t) => {
  const w = await setup(t);
  const secret = 'hunter2-s3cret';
  const r = await runEnpkg(['install', 'app', '-y', '--prefix', w.prefix, '--repo', `https://alice:${secret}@127.0.0.1:9/eggs/`], {
    env: { ...w.env },
    timeoutMs: 60_000,
  });
  assert.equal(r.code, 1);
  assert.ok(!r.stdout.includes(secret) && !r.stderr.includes(secret), r.stderr);
  noStackTrace(r);

  const fifoRepo = join(w.root, 'fifo-repo');
  mkdirSync(fifoRepo);
  execFileSync('mkfifo', [join(fifoRepo, 'index.json.zst')]);
  const started = Date.now();
  const f = await runEnpkg(['install', 'app', '-y', '--prefix', w.prefix, '--repo', fifoRepo], { env: w.env, timeoutMs: 30_000 });
  assert.equal(f.timedOut, false, 'no hang');
  assert.ok(Date.now() - started < 25_000);
  assert.equal(f.code, 1, f.stderr);
  assert.match(f.stderr, /index\.json\.zst.*not a regular file|not a regular file.*index\.json\.zst/);

  const cacheFile = join(w.root, 'cache-file');
  writeFileSync(cacheFile, 'not a directory\n');
  const config = join(w.root, 'cache.yaml');
  writeFileSync(config, `cache_dir: ${JSON.stringify(cacheFile)}\nrepositories: [${JSON.stringify(w.repo)}]\n`);
  const c = await runEnpkg(['install', 'app', '-y', '--prefix', w.prefix, '--config', config], { env: w.env });
  assert.equal(c.code, 1, c.stderr);
  assert.match(c.stderr, new RegExp(cacheFile.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  noStackTrace(c);
  assert.ok(!existsSync(join(w.prefix, 'EGG-INFO', 'app')), 'nothing was installed');
});

test('a package named __proto__ is recorded as any other: marked, with its sha256 and repository', async (t) => {
  const w = await setup(t, []);
  await buildBenchEgg(join(w.repo, '__proto__-1.0-1.egg'), { files: 2, totalBytes: 100, root: 'proto' });
  assert.equal((await runEnpkg(['repo', 'index', w.repo], { env: w.env })).code, 0);
  const r = await w.enpkg(['install', '__proto__', '-y']);
  assert.equal(r.code, 0, r.stderr);
  const list = (await w.enpkg(['list', '--json'])).json as { packages: { name: string; marked: boolean; repository: string | null }[] };
  assert.deepEqual(
    list.packages.map((p) => [p.name, p.marked, p.repository]),
    [['__proto__', true, w.repo]],
  );
  const verify = await w.enpkg(['verify', '--json']);
  assert.equal(verify.code, 0, verify.stdout);
});
