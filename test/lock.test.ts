/**
 * Two egginst processes on one prefix: the second is told who holds the lock, or waits with
 * --wait; a holder killed with SIGKILL releases the lock at once, and the next run recovers.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { egginstBin, fixturePath, runEgginst, tempDir } from './helpers/index.js';

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
