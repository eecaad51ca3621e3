/**
 * Crash safety: for install, upgrade and remove, the process SIGKILLs itself at every named crash
 * point (and at every occurrence of the repeated ones; the install relocates object code before
 * its own point); the next run recovers, and the prefix is
 * then exactly the before or the after tree. A second crash during recovery changes nothing.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CRASH_POINTS } from 'egginst';
import { fixturePath, runEgginst, tempDir, treeHash } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);
const env = { SOURCE_DATE_EPOCH: '1700000000' };

interface Scenario {
  name: string;
  setup: string[][];
  op: string[];
  /** Points before which the outcome must be the old tree, and from which the new one. */
}

const scenarios: Scenario[] = [
  { name: 'install', setup: [], op: [egg('data-1.0-1'), egg('upg-1.0-1'), egg('links-1.0-1'), egg('reloc-1.0-1')] },
  { name: 'upgrade', setup: [[egg('upg-1.0-1'), egg('links-1.0-1')]], op: [egg('upg-2.0-1'), egg('data-1.0-1')] },
  { name: 'remove', setup: [[egg('upg-1.0-1'), egg('data-1.0-1'), egg('links-1.0-1')]], op: ['--remove', 'upg', 'links'] },
];

const AFTER_COMMIT = new Set(['committed', 'cleanup']);

for (const s of scenarios) {
  test(`crash at every point of ${s.name}: recovery gives exactly the before or the after tree`, async (t) => {
    const root = await tempDir(t);
    const prefix = join(root, 'prefix');
    const template = join(root, 'template');
    mkdirSync(prefix);
    writeFileSync(join(prefix, 'keep.txt'), 'not ours');
    for (const eggs of s.setup) assert.equal((await runEgginst(['--prefix', prefix, '--no-fsync', ...eggs], { env })).code, 0);
    const before = await treeHash(prefix);
    execFileSync('cp', ['-a', prefix, template]);
    const restore = (): void => {
      rmSync(prefix, { recursive: true, force: true });
      execFileSync('cp', ['-a', template, prefix]);
    };
    const full = await runEgginst(['--prefix', prefix, '--no-fsync', ...s.op], { env });
    assert.equal(full.code, 0, full.stderr);
    const after = await treeHash(prefix);
    assert.notEqual(before, after);

    let crashes = 0;
    for (const point of CRASH_POINTS) {
      if (point === 'undo') continue; // exercised below, during recovery
      for (let k = 1; k < 500; k++) {
        restore();
        const r = await runEgginst(['--prefix', prefix, '--no-fsync', ...s.op], { env: { ...env, EGGINST_CRASH_AT: `${point}:${k}` } });
        if (r.signal !== 'SIGKILL') {
          assert.equal(r.code, 0, `${point}:${k} ran to the end: ${r.stderr}`);
          assert.equal(await treeHash(prefix), after);
          break;
        }
        crashes++;
        // Recovery that itself crashes at its first undo step, then recovery that finishes.
        const again = await runEgginst(['--prefix', prefix, '--list'], { env: { ...env, EGGINST_CRASH_AT: 'undo:1' } });
        assert.ok(again.signal === 'SIGKILL' || again.code === 0, again.stderr);
        const rec = await runEgginst(['--prefix', prefix, '--list'], { env });
        assert.equal(rec.code, 0, rec.stderr);
        const got = await treeHash(prefix);
        const want: string = AFTER_COMMIT.has(point) ? after : before;
        assert.equal(
          got,
          want,
          `after a crash at ${point}:${k} and recovery, the prefix is the ${AFTER_COMMIT.has(point) ? 'after' : 'before'} tree`,
        );
        assert.ok(!existsSync(join(prefix, '.egginst')), 'no transaction state is left');
      }
    }
    assert.ok(crashes >= CRASH_POINTS.length - 1, `crashed ${crashes} times`);
  });
}
