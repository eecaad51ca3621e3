/**
 * The prefix lock. Two egginst processes on one prefix: the second is told who holds the lock, or
 * waits with --wait; a holder killed with SIGKILL releases the lock at once, and the next run
 * recovers. The lock itself: flock on <prefix>/.egginst/lock (mode 0600), which only someone who can
 * write the prefix can take, which names its holder raw, and which no one outside the prefix can block.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { lockPrefix, PkgError } from 'egginst';
import { egginstBin, fixturePath, repoRoot, runEgginst, tempDir } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);

function start(args: string[]): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn(process.execPath, [egginstBin, ...args], {
    stdio: 'ignore',
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/' },
  });
  return { child, done: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

async function waitFor(path: string): Promise<void> {
  for (let i = 0; i < 200 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
  assert.ok(existsSync(path), `${path} appeared`);
}

test('a second process is told the holder pid; with --wait it goes on when the holder is done', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  const a = start(['--prefix', prefix, '--script-timeout', '3', egg('hang-1.0-1')]);
  await waitFor(join(prefix, 'hang.pid'));
  const b = await runEgginst(['--prefix', prefix, '--json', egg('data-1.0-1')]);
  assert.equal(b.code, 1);
  const err = (b.json as { error: { code: string; message: string } }).error;
  assert.equal(err.code, 'PREFIX_LOCKED');
  assert.match(err.message, new RegExp(`pid ${a.child.pid}\\b`));
  assert.match(b.stderr, /--wait/);
  const c = await runEgginst(['--prefix', prefix, '--wait', '--json', egg('data-1.0-1')]);
  assert.equal(await a.done, 1, 'the holder failed on its script timeout');
  assert.equal(c.code, 0, c.stderr);
  const list = await runEgginst(['--prefix', prefix, '--list', '--json']);
  assert.deepEqual(
    (list.json as { packages: { key: string }[] }).packages.map((p) => p.key),
    ['data'],
  );
});

test('a holder killed with SIGKILL releases the lock; the next run rolls its transaction back', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  const a = start(['--prefix', prefix, '--script-timeout', '100', egg('hang-1.0-1')]);
  await waitFor(join(prefix, 'hang-child.pid'));
  a.child.kill('SIGKILL');
  await a.done;
  for (const f of ['hang.pid', 'hang-child.pid']) {
    try {
      process.kill(-Number(readFileSync(join(prefix, f), 'utf8')), 'SIGKILL');
    } catch {
      // the script's group is already gone
    }
  }
  assert.ok(existsSync(join(prefix, 'EGG-INFO/hang')), 'the killed install had its files in place');
  const b = await runEgginst(['--prefix', prefix, egg('data-1.0-1')]);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /unfinished transaction .* rolled back/);
  assert.ok(!existsSync(join(prefix, 'EGG-INFO/hang')));
  assert.ok(existsSync(join(prefix, 'EGG-INFO/data')));
});

test('an interrupt (SIGINT) kills the running script and rolls everything back', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  const a = start(['--prefix', prefix, '--script-timeout', '100', egg('data-1.0-1'), egg('hang-1.0-1')]);
  await waitFor(join(prefix, 'hang-child.pid'));
  a.child.kill('SIGINT');
  assert.equal(await a.done, 130, 'interrupted, after the rollback');
  const child = Number(readFileSync(join(prefix, 'hang-child.pid'), 'utf8'));
  assert.throws(() => process.kill(child, 0), 'the script group was killed');
  assert.ok(!existsSync(join(prefix, 'EGG-INFO')), 'nothing of either egg is left');
  assert.ok(!existsSync(join(prefix, '.egginst')));
});

const lockModule = pathToFileURL(join(repoRoot, 'packages', 'egginst', 'dist', 'src', 'lock.js')).href;

/**
 * A process that takes the lock of argv[1] as command argv[2] (as uid argv[3] when given), says
 * `locked <pid of a sleeping child it started>` and holds the lock until its stdin closes; or says
 * the error as JSON and exits 3.
 */
const HOLDER = `
import { spawn } from 'node:child_process';
const [prefix, command, uid] = process.argv.slice(1);
if (uid) {
  process.setgid(Number(uid));
  process.setuid(Number(uid));
}
const { lockPrefix } = await import(${JSON.stringify(lockModule)});
try {
  const lock = await lockPrefix(prefix, { command });
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore', detached: true });
  sleeper.unref();
  process.stdout.write('locked ' + sleeper.pid + '\\n');
  process.stdin.resume();
  process.stdin.on('end', async () => {
    await lock.release();
    try {
      process.kill(sleeper.pid, 'SIGKILL');
    } catch {}
    process.exit(0);
  });
} catch (e) {
  process.stdout.write(JSON.stringify({ code: e.code, message: e.message }) + '\\n');
  process.exit(3);
}
`;

interface Holder {
  child: ChildProcess;
  /** The first line the holder says. */
  said: Promise<string>;
  done: Promise<number | null>;
}

function holder(prefix: string, command: string, uid?: number): Holder {
  const args = ['--input-type=module', '-e', HOLDER, '--', prefix, command, ...(uid === undefined ? [] : [String(uid)])];
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  const said = new Promise<string>((resolve) => {
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (d: string) => {
      out += d;
      if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')));
    });
    child.on('close', () => resolve(out));
  });
  return { child, said, done: new Promise((resolve) => child.on('close', (code) => resolve(code))) };
}

/** The holder's sleeping child, once it holds the lock. */
async function locked(h: Holder): Promise<number> {
  const line = await h.said;
  assert.match(line, /^locked \d+$/, line);
  return Number(line.split(' ')[1]);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

const isLocked = (e: unknown): e is PkgError => e instanceof PkgError && e.code === 'PREFIX_LOCKED';

test('a second process is refused with PREFIX_LOCKED naming the holder pid and its command, raw', async (t) => {
  const prefix = await tempDir(t);
  const command = 'enpkg install \x1b[31mred\x1b[0m';
  const h = holder(prefix, command);
  t.after(() => h.child.kill('SIGKILL'));
  killQuietly(await locked(h));
  const path = join(prefix, '.egginst', 'lock');
  assert.equal(statSync(path).mode & 0o777, 0o600, 'the lock file is mode 0600');
  assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { pid: h.child.pid, command });
  await assert.rejects(lockPrefix(prefix), (e: unknown) => {
    assert.ok(isLocked(e));
    assert.equal(e.message, `the prefix ${prefix} is locked by pid ${h.child.pid} (${command})`);
    assert.equal(e.details.holder, `pid ${h.child.pid} (${command})`);
    assert.match(e.hint ?? '', /--wait/);
    return true;
  });
  h.child.stdin!.end();
  assert.equal(await h.done, 0);
  assert.ok(!existsSync(join(prefix, '.egginst')), 'a released lock leaves nothing in the prefix');
});

test('with wait the second process is told once who holds it, and takes it when the holder lets go', async (t) => {
  const prefix = await tempDir(t);
  const h = holder(prefix, 'egginst a.egg');
  t.after(() => h.child.kill('SIGKILL'));
  killQuietly(await locked(h));
  const told: string[] = [];
  let released = false;
  const waiting = lockPrefix(prefix, { wait: true, command: 'waiter', onWait: (who) => told.push(who) });
  setTimeout(() => {
    released = true;
    h.child.stdin!.end();
  }, 400);
  const lock = await waiting;
  assert.ok(released, 'the lock was taken only after the holder let go');
  assert.deepEqual(told, [`pid ${h.child.pid} (egginst a.egg)`]);
  assert.deepEqual(JSON.parse(readFileSync(join(prefix, '.egginst', 'lock'), 'utf8')), { pid: process.pid, command: 'waiter' });
  await lock.release();
  assert.equal(await h.done, 0);
});

test('a holder killed with SIGKILL has let go at once, though a child it started lives on', async (t) => {
  const prefix = await tempDir(t);
  const h = holder(prefix, 'egginst a.egg');
  t.after(() => h.child.kill('SIGKILL'));
  const sleeper = await locked(h);
  t.after(() => killQuietly(sleeper));
  h.child.kill('SIGKILL');
  await h.done;
  process.kill(sleeper, 0);
  assert.ok(existsSync(join(prefix, '.egginst', 'lock')), 'the dead holder left its file: nothing needs to clean it up');
  const lock = await lockPrefix(prefix, { command: 'next' });
  await lock.release();
  assert.ok(!existsSync(join(prefix, '.egginst')));
});

test('a left-over lock file of a looser mode is made 0600 by its next holder', async (t) => {
  const prefix = await tempDir(t);
  mkdirSync(join(prefix, '.egginst'));
  writeFileSync(join(prefix, '.egginst', 'lock'), 'junk');
  chmodSync(join(prefix, '.egginst', 'lock'), 0o666);
  const lock = await lockPrefix(prefix);
  try {
    assert.equal(statSync(join(prefix, '.egginst', 'lock')).mode & 0o777, 0o600);
  } finally {
    await lock.release();
  }
});

test('what a holder wrote is read up to 4 KiB only, and junk there does not name anyone', async (t) => {
  const prefix = await tempDir(t);
  const lock = await lockPrefix(prefix);
  try {
    const path = join(prefix, '.egginst', 'lock');
    writeFileSync(path, JSON.stringify({ pid: 12345, command: 'x'.repeat(100_000) }));
    await assert.rejects(lockPrefix(prefix), (e: unknown) => isLocked(e) && /locked by another process$/.test(e.message));
    const long = 'y'.repeat(100_000);
    writeFileSync(path, '');
    await lock.release();
    const again = await lockPrefix(prefix, { command: long });
    try {
      await assert.rejects(lockPrefix(prefix), (e: unknown) => isLocked(e) && e.message.length < 4096);
    } finally {
      await again.release();
    }
  } finally {
    await lock.release();
  }
});

test('a user who cannot write the prefix can neither take the lock nor keep its owner out', {
  skip: process.getuid?.() !== 0,
}, async (t) => {
  const dir = await tempDir(t);
  chmodSync(dir, 0o755);
  const prefix = join(dir, 'prefix');
  mkdirSync(prefix, 0o755);
  const nobody = 65534;

  const fresh = holder(prefix, 'squatter', nobody);
  assert.equal(await fresh.done, 3);
  const err = JSON.parse(await fresh.said) as { code: string; message: string };
  assert.equal(err.code, 'PREFIX_INVALID');
  assert.ok(err.message.includes(join(prefix, '.egginst', 'lock')), err.message);
  assert.match(err.message, /you cannot write the prefix/);

  // The lock file exists (a holder was killed), even with no permissions at all: still no way in.
  mkdirSync(join(prefix, '.egginst'), 0o755);
  writeFileSync(join(prefix, '.egginst', 'lock'), '');
  chmodSync(join(prefix, '.egginst', 'lock'), 0);
  const left = holder(prefix, 'squatter', nobody);
  assert.equal(await left.done, 3);
  assert.equal((JSON.parse(await left.said) as { code: string }).code, 'PREFIX_INVALID');

  const lock = await lockPrefix(prefix, { command: 'root' });
  await lock.release();
});

test('binding the abstract socket name of the old lock blocks nothing', { skip: process.platform !== 'linux' }, async (t) => {
  const prefix = await tempDir(t);
  const name = `\0egginst-lock-${createHash('sha256').update(realpathSync(prefix)).digest('hex').slice(0, 40)}`;
  const squatter = net.createServer((sock) => sock.end('pid 1 (rm -rf /)'));
  await new Promise<void>((resolve) => squatter.listen({ path: name, exclusive: true }, resolve));
  try {
    const lock = await lockPrefix(prefix, { command: 'egginst' });
    assert.deepEqual(readdirSync(join(prefix, '.egginst')), ['lock']);
    await lock.release();
  } finally {
    await new Promise((r) => squatter.close(r));
  }
});
