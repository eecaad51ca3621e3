/**
 * enpkg under kill -9: for install, upgrade, remove and revert, the process SIGKILLs itself at every
 * named crash point (every occurrence of the repeated ones); the next enpkg run recovers, and then
 * the prefix is exactly the before or the after tree and the state database agrees with it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { CRASH_POINTS, checkEntry, listStore, readEntry } from 'egginst';
import { setup, treeListing, type Setup } from './helpers/index.js';

/** The prefix without enpkg's own database files (which change with every run). */
async function prefixHash(prefix: string): Promise<string> {
  const lines = (await treeListing(prefix)).filter((l) => !/^\S+ \S+ "\.enpkg(\/|")/.test(l));
  return createHash('sha256').update(lines.join('\n')).digest('hex');
}

async function installedSet(s: Setup): Promise<string> {
  const r = await s.enpkg(['list', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return (r.json as { packages: { eggName: string }[] }).packages.map((p) => p.eggName).join(' ');
}

interface Scenario {
  name: string;
  setup: string[][];
  op: string[];
  /** Empty the package store before each run, so that the run fills it (its crash points too). */
  emptyStore?: boolean;
}

const scenarios: Scenario[] = [
  { name: 'install', setup: [], op: ['install', 'app-1.0.0'] },
  { name: 'install from an empty store', setup: [], op: ['install', 'app-1.0.0'], emptyStore: true },
  { name: 'upgrade', setup: [['install', 'app-1.0.0']], op: ['update', '--all'] },
  { name: 'remove', setup: [['install', 'app-1.0.0', 'data']], op: ['remove', 'libfoo'] },
  {
    name: 'revert',
    setup: [
      ['install', 'app-1.0.0'],
      ['install', 'data'],
      ['update', '--all'],
    ],
    op: ['revert', '1'],
  },
];

const AFTER_COMMIT = new Set(['committed', 'cleanup']);

for (const sc of scenarios) {
  test(`enpkg ${sc.name}: a crash at every point leaves the before or the after state, prefix and database alike`, async (t) => {
    const s = await setup(t);
    assert.equal((await s.enpkg(['list'])).code, 0, 'enpkg creates the prefix and its revision 0');
    for (const args of sc.setup) assert.equal((await s.enpkg([...args, '-y'])).code, 0);
    const template = join(s.root, 'template');
    execFileSync('cp', ['-a', s.prefix, template]);
    const store = join(s.env.XDG_CACHE_HOME!, 'enpkg', 'store');
    const restore = (): void => {
      rmSync(s.prefix, { recursive: true, force: true });
      execFileSync('cp', ['-a', template, s.prefix]);
      if (sc.emptyStore) rmSync(store, { recursive: true, force: true });
    };
    /** Every complete entry of the store matches its manifest: a crash never leaves one half-written. */
    const storeSound = (where: string): void => {
      for (const sha of listStore(store).entries) assert.deepEqual(checkEntry(readEntry(store, sha)!), [], `${where}: store entry ${sha}`);
    };
    const before = { tree: await prefixHash(s.prefix), db: await installedSet(s) };
    restore();
    assert.equal((await s.enpkg([...sc.op, '-y'])).code, 0);
    const after = { tree: await prefixHash(s.prefix), db: await installedSet(s) };
    assert.notEqual(before.tree, after.tree);

    let crashes = 0;
    const crashedAt = new Set<string>();
    for (const point of CRASH_POINTS) {
      if (point === 'undo') continue;
      for (let k = 1; k < 200; k++) {
        restore();
        const r = await s.enpkg([...sc.op, '-y'], { EGGINST_CRASH_AT: `${point}:${k}` });
        if (r.signal !== 'SIGKILL') {
          assert.equal(r.code, 0, `${point}:${k}: ${r.stderr}`);
          break;
        }
        crashes++;
        crashedAt.add(point);
        storeSound(`${sc.name}: crash at ${point}:${k}`);
        const want: { tree: string; db: string } = AFTER_COMMIT.has(point) ? after : before;
        const db = await installedSet(s);
        assert.equal(await prefixHash(s.prefix), want.tree, `${sc.name}: crash at ${point}:${k}, then recovery: the prefix`);
        assert.equal(db, want.db, `${sc.name}: crash at ${point}:${k}, then recovery: the database`);
      }
    }
    assert.ok(crashes >= 5, `crashed ${crashes} times`);
    storeSound(sc.name);
    if (sc.emptyStore)
      for (const p of ['store-file', 'store-verified']) assert.ok(crashedAt.has(p), `crashed while filling the store (${p})`);
  });
}
