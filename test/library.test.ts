/**
 * egginst's library API as enpkg uses it: one transaction over several jobs, prepare/apply/commit
 * or abort, a caller-held lock, and a payload that outlives the cleanup until acknowledged.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  acknowledgeCommitted,
  committedPayloads,
  inspectEgg,
  listInstalled,
  lockPrefix,
  openTransaction,
  recoverPrefix,
  verifyInstalled,
  PkgError,
  readRecord,
} from 'egginst';
import { fixturePath, tempDir, treeHash } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);

test('prepare stages without visible change; abort leaves the prefix as it was', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  mkdirSync(prefix);
  const before = await treeHash(prefix);
  const tx = await openTransaction({ prefix, durable: false });
  try {
    const { changes } = await tx.prepare([
      { kind: 'install', eggPath: egg('upg-1.0-1') },
      { kind: 'install', eggPath: egg('data-1.0-1') },
    ]);
    assert.deepEqual(
      changes.map((c) => `${c.kind} ${c.key}`),
      ['install upg', 'install data'],
    );
    assert.deepEqual(listInstalled(prefix), [], 'nothing is installed before apply');
    await tx.abort();
  } finally {
    await tx.close();
  }
  assert.equal(await treeHash(prefix), before);
});

test('a committed payload is kept until acknowledged, even when another run finishes the cleanup', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  const lock = await lockPrefix((mkdirSync(prefix), prefix));
  try {
    const tx = await openTransaction({ prefix, lock, durable: false, payload: { revision: 7 } });
    try {
      await tx.prepare([{ kind: 'install', eggPath: egg('upg-1.0-1') }]);
      await tx.apply();
      tx.commit();
    } finally {
      await tx.close();
    }
    const pending = committedPayloads(prefix);
    assert.equal(pending.length, 1);
    assert.deepEqual(pending[0]!.payload, { revision: 7 });
    assert.deepEqual(
      pending[0]!.changes.map((c) => c.key),
      ['upg'],
    );
    assert.deepEqual(recoverPrefix(prefix), [], 'a kept payload is not an unfinished transaction');
    acknowledgeCommitted(prefix, pending[0]!.id);
    assert.deepEqual(committedPayloads(prefix), []);
    assert.deepEqual(readdirSync(join(prefix, '.egginst')), ['lock'], 'nothing but the held lock is left');
  } finally {
    await lock.release();
  }
  assert.ok(!existsSync(join(prefix, '.egginst')));
});

test('the caller-held lock is the same lock: a second taker is refused', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  mkdirSync(prefix);
  const lock = await lockPrefix(prefix, { command: 'enpkg install x' });
  try {
    await assert.rejects(
      openTransaction({ prefix }),
      (e: unknown) => e instanceof PkgError && e.code === 'PREFIX_LOCKED' && /enpkg install x/.test(e.message),
    );
  } finally {
    await lock.release();
  }
  const tx = await openTransaction({ prefix });
  await tx.close();
});

test("commit runs the caller's work after the mark, while the moved-aside files go; its failure comes after the cleanup", async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  mkdirSync(prefix);
  const update = async (eggName: string, during: (id: string) => void): Promise<string> => {
    const tx = await openTransaction({ prefix, durable: false, payload: { eggName } });
    try {
      await tx.prepare([{ kind: 'install', eggPath: egg(eggName) }]);
      await tx.apply();
      const result = tx.commit((r) => during(r.id));
      // The records written, as the prefix now holds them.
      assert.deepEqual([...result.records.keys()], ['upg']);
      assert.deepEqual(result.records.get('upg'), readRecord(prefix, 'upg'));
      return result.id;
    } finally {
      await tx.close();
    }
  };
  await update('upg-1.0-1', () => {});
  const seen: string[] = [];
  const id = await update('upg-2.0-1', (txn) => {
    // Committed: the kept journal is there to record from, and the new version is in place.
    assert.ok(committedPayloads(prefix).some((j) => j.id === txn));
    assert.equal(readRecord(prefix, 'upg')!.version, '2.0');
    // The cleanup is not finished: the transaction's directory is still there.
    assert.ok(existsSync(join(prefix, '.egginst', txn)));
    seen.push(txn);
  });
  assert.deepEqual(seen, [id]);
  assert.ok(!existsSync(join(prefix, '.egginst', id)), 'cleaned up once commit returns');
  assert.equal(verifyInstalled(prefix, 'upg').problems.length, 0);
  let failed: string | undefined;
  await assert.rejects(
    update('upg-1.0-1', (txn) => {
      failed = txn;
      throw new Error('bookkeeping failed');
    }),
    /bookkeeping failed/,
  );
  // Thrown after the cleanup: the update stays committed and nothing of it is left over.
  assert.equal(readRecord(prefix, 'upg')!.version, '1.0');
  assert.ok(failed !== undefined && !existsSync(join(prefix, '.egginst', failed)));
  assert.ok(
    committedPayloads(prefix).some((j) => j.id === failed),
    'the kept journal waits for its acknowledgement',
  );
});

test('inspectEgg reads metadata with every archive check', async () => {
  const meta = await inspectEgg(egg('app-1.0.0-1'));
  assert.equal(meta.id.key, 'app');
  assert.ok(meta.spec.packages.length > 0);
  await assert.rejects(
    inspectEgg(fixturePath('hostile', 'evil_traversal-1.0-1.egg')),
    (e: unknown) => e instanceof PkgError && e.code === 'ARCHIVE_UNSAFE_PATH',
  );
});

test('verifyInstalled finds missing, changed, re-moded and re-pointed files', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  const tx = await openTransaction({ prefix, durable: false });
  try {
    await tx.prepare([
      { kind: 'install', eggPath: egg('links-1.0-1') },
      { kind: 'install', eggPath: egg('data-1.0-1') },
    ]);
    await tx.apply();
    tx.commit();
  } finally {
    await tx.close();
  }
  assert.deepEqual(verifyInstalled(prefix, 'data').problems, []);
  writeFileSync(join(prefix, 'share/data/table.csv'), 'tampered');
  rmSync(join(prefix, 'share/data/notes/README.txt'));
  chmodSync(join(prefix, 'bin/datatool'), 0o600);
  rmSync(join(prefix, 'lib/libz.so'));
  symlinkSync('elsewhere', join(prefix, 'lib/libz.so'));
  const data = verifyInstalled(prefix, 'data')
    .problems.map((p) => `${p.problem} ${p.path}`)
    .sort();
  assert.deepEqual(data, ['changed share/data/table.csv', 'missing share/data/notes/README.txt', 'mode bin/datatool']);
  assert.deepEqual(
    verifyInstalled(prefix, 'links').problems.map((p) => `${p.problem} ${p.path}`),
    ['link lib/libz.so'],
  );
  assert.throws(
    () => verifyInstalled(prefix, 'nothere'),
    (e: unknown) => e instanceof PkgError && e.code === 'NOT_INSTALLED',
  );
});

test('a new directory only one package writes into moves in with one rename; one that several share is made', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  mkdirSync(prefix);
  const tx = await openTransaction({ prefix, durable: false, payload: { kept: true } });
  try {
    await tx.prepare([
      { kind: 'install', eggPath: egg('data-1.0-1') },
      { kind: 'install', eggPath: egg('upg-1.0-1') },
    ]);
    await tx.apply();
    tx.commit();
  } finally {
    await tx.close();
  }
  const [journal] = committedPayloads(prefix);
  const paths = (op: string): string[] => journal!.ops.filter((o) => o.op === op).map((o) => o.path);
  for (const shared of ['bin', 'share']) assert.ok(paths('mkdir').includes(shared), `${shared}/ is made: ${paths('mkdir')}`);
  for (const own of ['share/data', 'share/upg']) assert.ok(paths('place').includes(own), `${own}/ is moved whole: ${paths('place')}`);
  assert.deepEqual(
    paths('place').filter((p) => p.startsWith('share/data/') || p.startsWith('share/upg/')),
    [],
    'nothing under them is moved on its own',
  );
  for (const p of listInstalled(prefix)) assert.deepEqual(verifyInstalled(prefix, p.key).problems, [], p.key);
  assert.ok(existsSync(join(prefix, 'share/data/notes/README.txt')) && existsSync(join(prefix, 'share/upg/old-only.txt')));
});

test('an update moves a directory the old package wholly owns aside whole, unless something else is in it', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  mkdirSync(prefix);
  const run = async (eggName: string): Promise<Array<{ op: string; path: string }>> => {
    const tx = await openTransaction({ prefix, durable: false, payload: { eggName } });
    try {
      await tx.prepare([{ kind: 'install', eggPath: egg(eggName) }]);
      await tx.apply();
      tx.commit();
    } finally {
      await tx.close();
    }
    const journals = committedPayloads(prefix);
    for (const j of journals) acknowledgeCommitted(prefix, j.id);
    return journals.at(-1)!.ops;
  };
  await run('upg-1.0-1');
  const pkgDir = readRecord(prefix, 'upg')!
    .files.map((f) => f.replace(/^\.\//, ''))
    .find((f) => f.endsWith('upg/old.py'))!
    .replace(/\/old\.py$/, '');
  // A compiled file beside a .py of the package goes with it, as it does when files are moved one by one.
  writeFileSync(join(prefix, pkgDir, 'old.pyc'), 'compiled');
  // Something of the user's in share/upg keeps that directory in place.
  writeFileSync(join(prefix, 'share/upg/mine.txt'), 'kept');

  const ops = await run('upg-2.0-1');
  const backups = ops.filter((o) => o.op === 'backup').map((o) => o.path);
  const places = ops.filter((o) => o.op === 'place').map((o) => o.path);
  // EGG-INFO holds only upg's metadata here, so it is the shallowest directory swapped.
  for (const whole of [pkgDir, 'EGG-INFO']) {
    assert.ok(backups.includes(whole) && places.includes(whole), `${whole} is swapped whole: ${backups} / ${places}`);
    assert.deepEqual(
      [...backups, ...places].filter((p) => p.startsWith(`${whole}/`)),
      [],
      `nothing under ${whole} moves on its own`,
    );
  }
  assert.ok(!backups.includes('share/upg') && backups.includes('share/upg/old-only.txt'), `share/upg stays: ${backups}`);
  assert.equal(readFileSync(join(prefix, 'share/upg/mine.txt'), 'utf8'), 'kept');
  assert.ok(!existsSync(join(prefix, pkgDir, 'old.pyc')) && !existsSync(join(prefix, pkgDir, 'old.py')));
  assert.ok(existsSync(join(prefix, pkgDir, 'new.py')) && existsSync(join(prefix, 'share/upg/new-only.txt')));
  for (const p of listInstalled(prefix)) assert.deepEqual(verifyInstalled(prefix, p.key).problems, [], p.key);
  assert.ok(!existsSync(join(prefix, '.egginst')), 'the backups are gone');
});
