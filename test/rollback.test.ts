/**
 * Every rollback branch, walked by injecting failing filesystem operations through the transaction's
 * `fs` option (npm arborist's way): a rename failing mid-apply, a failing undo during the rollback, a
 * failing recovery, a failure while writing the journal, ENOSPC at every step, a failing cleanup
 * after commit, an interrupt, a failing post-install script. The prefix tree is checked before and
 * after each; then every single call of every operation is made to fail in turn.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  PkgError,
  acknowledgeCommitted,
  committedPayloads,
  listInstalled,
  openTransaction,
  NO_REPORTER,
  recoverPrefix,
  runTransaction,
  type EggJob,
  type TransactionOptions,
  type TransactionResult,
} from 'egginst';
import { FS_OPS, causes, errno, faultyFs, nth, once, type Fault, type FaultyFs, type FsCall } from './helpers/faults.js';
import { fixturePath, tempDir, treeHash } from './helpers/index.js';

process.env.SOURCE_DATE_EPOCH = '1700000000';

const install = (name: string): EggJob => ({ kind: 'install', eggPath: fixturePath('eggs', `${name}.egg`) });
/** With a payload, the cleanup also keeps a copy of the journal for the caller (as enpkg uses it). */
const PAYLOAD = { revision: 1 };

interface World {
  prefix: string;
  jobs: EggJob[];
  /** Tree hashes of the prefix before and after the transaction. */
  before: string;
  after: string;
  /** Put the before tree back. */
  restore(): void;
}

/** A prefix with `setup` installed (and a file of nobody's), and the tree hashes before and after `jobs`. */
async function world(t: TestContext, setup: string[], jobs: EggJob[]): Promise<World> {
  const root = await tempDir(t, 'rollback-');
  const prefix = join(root, 'prefix');
  const template = join(root, 'template');
  mkdirSync(prefix);
  writeFileSync(join(prefix, 'keep.txt'), 'not ours\n');
  if (setup.length) await runTransaction(setup.map(install), { prefix, durable: false });
  const before = await treeHash(prefix);
  execFileSync('cp', ['-a', prefix, template]);
  const restore = (): void => {
    rmSync(prefix, { recursive: true, force: true });
    execFileSync('cp', ['-a', template, prefix]);
  };
  await runTransaction(jobs, { prefix, durable: false, payload: PAYLOAD });
  settle(prefix);
  const after = await treeHash(prefix);
  assert.notEqual(after, before);
  restore();
  return { prefix, jobs, before, after, restore };
}

/** What the next run does: recover, and (as enpkg would) take the committed payloads. */
function settle(prefix: string): void {
  recoverPrefix(prefix);
  for (const j of committedPayloads(prefix)) acknowledgeCommitted(prefix, j.id);
}

interface Attempt {
  fs: FaultyFs;
  result?: TransactionResult;
  error?: unknown;
}

async function attempt(w: World, fault: Fault, opts: Partial<TransactionOptions> = {}): Promise<Attempt> {
  const fs = faultyFs(fault);
  try {
    return { fs, result: await runTransaction(w.jobs, { prefix: w.prefix, durable: false, payload: PAYLOAD, fs, ...opts }) };
  } catch (error) {
    return { fs, error };
  }
}

function pkgError(a: Attempt, code: string): PkgError {
  assert.ok(a.error instanceof PkgError, `expected ${code}, got ${a.error === undefined ? 'success' : String(a.error)}`);
  assert.equal(a.error.code, code, a.error.message);
  return a.error;
}

/** The injected error is in the cause chain: the original failure is kept. */
function keepsCause(e: unknown, fs: FaultyFs, which = 0): void {
  const injected = fs.failed[which]?.error;
  assert.ok(injected, 'a call was made to fail');
  assert.ok(causes(e).includes(injected), `the cause chain of ${String(e)} holds ${injected.message}`);
}

const noTransactionLeft = (prefix: string): void => assert.ok(!existsSync(join(prefix, '.egginst')), 'no transaction state is left');

const isJournal = (c: FsCall): boolean => String(c.args[1]).endsWith('/journal.json');

/** The n of the renameSync calls of the apply phase: after the journal's rename, before the commit mark's. */
function applyRenames(calls: FsCall[]): number[] {
  const renames = calls.filter((c) => c.op === 'renameSync');
  const marks = renames.filter(isJournal).map((c) => c.n);
  assert.equal(marks.length, 2, 'the journal is written twice: prepared, then committed');
  return renames.filter((c) => c.n > marks[0]! && c.n < marks[1]!).map((c) => c.n);
}

/**
 * An upgrade, installs (one with links, two sharing a new directory) and a removal: backups,
 * directories made, and renames into place.
 */
const SCENARIO: [string[], EggJob[]] = [
  ['upg-1.0-1', 'data-1.0-1'],
  [install('upg-2.0-1'), install('links-1.0-1'), install('libfoo-1.0.0-1'), install('libbar-2.0-1'), { kind: 'remove', key: 'data' }],
];

async function probe(w: World): Promise<FsCall[]> {
  const a = await attempt(w, () => undefined);
  assert.equal(a.error, undefined);
  w.restore();
  return a.fs.calls;
}

test('a rename failing mid-apply rolls back: the prefix tree is unchanged', async (t) => {
  const w = await world(t, ...SCENARIO);
  const apply = applyRenames(await probe(w));
  assert.ok(apply.length >= 6, `${apply.length} renames`);
  for (const k of [apply[0]!, apply[Math.floor(apply.length / 2)]!, apply[apply.length - 1]!]) {
    w.restore();
    const a = await attempt(w, nth('renameSync', k));
    const e = pkgError(a, 'IO');
    assert.match(e.message, /^moving files into place: EIO/);
    keepsCause(e, a.fs);
    assert.equal(await treeHash(w.prefix), w.before, `rename ${k} of the apply failed`);
    noTransactionLeft(w.prefix);
  }
});

test('a failing undo is ROLLBACK_FAILED saying what is left where, the original error its cause; the next recovery finishes', async (t) => {
  const w = await world(t, ...SCENARIO);
  const apply = applyRenames(await probe(w));
  // From the second rename of the apply on, the rollback has a rename to undo: make that fail too.
  for (const k of apply.slice(1)) {
    w.restore();
    const a = await attempt(w, (c) => (c.op === 'renameSync' && (c.n === k || c.n === k + 1) ? errno('EIO', c) : undefined));
    const e = pkgError(a, 'ROLLBACK_FAILED');
    assert.equal(a.fs.failed.length, 2);
    // The original failure is the cause; the undo's own failure is in the message and details.
    assert.ok(e.cause instanceof PkgError && e.cause.code === 'IO', String(e.cause));
    assert.equal(e.cause.cause, a.fs.failed[0]!.error, 'the original error is kept');
    assert.match(e.message, /^moving files into place: EIO.*; then rolling back failed too: cannot /);
    assert.match(e.message, /partly changed; the journal and the files moved aside are in .*\.egginst\/txn-/);
    assert.equal(e.details.rollbackError, a.fs.failed[1]!.error.message);
    const journal = e.details.journal as string;
    assert.ok(e.message.includes(journal));
    assert.ok(existsSync(join(journal, 'journal.json')), 'the journal is kept for recovery');
    assert.match(e.hint ?? '', new RegExp(`egginst --prefix ${w.prefix} --list .*Do not delete`));
    assert.notEqual(await treeHash(w.prefix), w.before, 'the prefix is partly changed');
    const rec = recoverPrefix(w.prefix);
    assert.deepEqual(
      rec.map((r) => r.outcome),
      ['rolled-back'],
    );
    assert.equal(await treeHash(w.prefix), w.before, `after rename ${k} and its undo failed, recovery restores the before tree`);
    noTransactionLeft(w.prefix);
  }
});

test('a failing recovery is RECOVERY_FAILED with its cause, keeps the journal, and the next recovery finishes', async (t) => {
  const w = await world(t, ...SCENARIO);
  const apply = applyRenames(await probe(w));
  const k = apply[apply.length - 1]!;
  const a = await attempt(w, (c) => (c.op === 'renameSync' && (c.n === k || c.n === k + 1) ? errno('EIO', c) : undefined));
  const journal = pkgError(a, 'ROLLBACK_FAILED').details.journal as string;

  // The undo fails again during recovery.
  const undoFails = faultyFs(nth('renameSync', 1));
  assert.throws(
    () => recoverPrefix(w.prefix, NO_REPORTER, { fs: undoFails }),
    (e: unknown) => {
      assert.ok(e instanceof PkgError && e.code === 'RECOVERY_FAILED', String(e));
      assert.match(e.message, /^cannot finish the unfinished transaction txn-\S+ in .*: cannot /);
      assert.match(e.hint ?? '', /--list .*Do not delete/);
      keepsCause(e, undoFails);
      return true;
    },
  );
  assert.ok(existsSync(join(journal, 'journal.json')));

  // A journal that cannot be read is not taken for a missing one (that would discard the backups).
  const readFails = faultyFs(once((c) => c.op === 'readFileSync'));
  await assert.rejects(openTransaction({ prefix: w.prefix, durable: false, fs: readFails }), (e: unknown) => {
    assert.ok(e instanceof PkgError && e.code === 'RECOVERY_FAILED', String(e));
    keepsCause(e, readFails);
    return true;
  });
  assert.ok(existsSync(join(journal, 'journal.json')));
  const listFails = faultyFs(once((c) => c.op === 'readdirSync'));
  assert.throws(
    () => recoverPrefix(w.prefix, NO_REPORTER, { fs: listFails }),
    (e: unknown) => e instanceof PkgError && e.code === 'RECOVERY_FAILED' && causes(e).includes(listFails.failed[0]!.error),
  );

  // The lock was released; the next transaction recovers first, then goes on.
  const tx = await openTransaction({ prefix: w.prefix, durable: false });
  try {
    assert.deepEqual(
      tx.recovered.map((r) => r.outcome),
      ['rolled-back'],
    );
  } finally {
    await tx.close();
  }
  assert.equal(await treeHash(w.prefix), w.before);
  noTransactionLeft(w.prefix);
});

test('a failure while writing the journal rolls back', async (t) => {
  const w = await world(t, ...SCENARIO);
  const journalWrite = (c: FsCall): boolean => c.op === 'writeFileSync' && typeof c.args[0] === 'number';
  for (const fault of [
    once(journalWrite),
    once((c) => c.op === 'openSync' && String(c.args[0]).endsWith('journal.json.tmp')),
    once((c) => c.op === 'renameSync' && isJournal(c)),
  ]) {
    w.restore();
    const a = await attempt(w, fault);
    const e = pkgError(a, 'IO');
    assert.match(e.message, /^writing the journal: EIO/);
    keepsCause(e, a.fs);
    assert.equal(await treeHash(w.prefix), w.before);
    noTransactionLeft(w.prefix);
  }
});

const NO_SPACE_MESSAGE = (prefix: string, step: string): RegExp =>
  new RegExp(
    `^no space left on device in ${prefix} while ${step}: the transaction needs about \\d+\\.\\d MiB there, \\d+\\.\\d MiB is free$`,
  );

test('ENOSPC while staging, writing the journal, moving files or marking the commit: NO_SPACE saying what is needed where', async (t) => {
  const w = await world(t, ...SCENARIO);
  const fdWrite = (c: FsCall): boolean => c.op === 'writeFileSync' && typeof c.args[0] === 'number';
  const cases: [string, () => Fault][] = [
    ['staging', () => once((c) => c.op === 'writeFileSync' && String(c.args[0]).endsWith('egginst.json'), 'ENOSPC')],
    ['staging', () => once((c) => c.op === 'symlinkSync', 'ENOSPC')],
    ['staging', () => once((c) => c.op === 'mkdirSync', 'ENOSPC')],
    ['writing the journal', () => once(fdWrite, 'ENOSPC')],
    ['moving files into place', () => once((c) => c.op === 'mkdirSync' && !String(c.args[0]).includes('.egginst'), 'ENOSPC')],
    ['moving files into place', () => once((c) => c.op === 'renameSync' && !isJournal(c), 'ENOSPC')],
    // The commit mark is the second write of a journal.
    ['marking the transaction committed', () => once((c) => fdWrite(c) && (fdWrites = (fdWrites + 1) % 2) === 0, 'ENOSPC')],
  ];
  let fdWrites = 0;
  for (const [step, fault] of cases) {
    w.restore();
    const a = await attempt(w, fault());
    assert.equal(a.fs.failed.length, 1, `a call failed while ${step}`);
    const e = pkgError(a, 'NO_SPACE');
    assert.match(e.message, NO_SPACE_MESSAGE(w.prefix, step));
    assert.equal(e.details.path, w.prefix);
    assert.equal(e.details.step, step);
    assert.ok((e.details.needed as number) > 0 && typeof e.details.available === 'number', JSON.stringify(e.details));
    assert.match(e.hint ?? '', /^free (at least [\d.]+ MiB|some space) on the filesystem holding /);
    keepsCause(e, a.fs);
    assert.equal(await treeHash(w.prefix), w.before, `ENOSPC while ${step}`);
    noTransactionLeft(w.prefix);
  }
});

test('the free-space precheck says the same: what is needed where, before anything is written', async (t) => {
  const w = await world(t, ...SCENARIO);
  const fs = faultyFs();
  fs.statfsSync = ((path: string) => ({ ...statfsSync(path), bavail: 3, bsize: 4096 })) as typeof fs.statfsSync;
  const e = await runTransaction(w.jobs, { prefix: w.prefix, durable: false, fs }).catch((err: unknown) => err);
  assert.ok(e instanceof PkgError && e.code === 'NO_SPACE', String(e));
  assert.match(
    e.message,
    new RegExp(`^not enough space in ${w.prefix}: the transaction needs about \\d+\\.\\d MiB there, 0\\.0 MiB is free$`),
  );
  assert.equal(e.details.available, 3 * 4096);
  assert.deepEqual(
    fs.calls.filter((c) => c.op === 'mkdirSync' || c.op === 'writeFileSync'),
    [],
    'nothing was written',
  );
  assert.equal(await treeHash(w.prefix), w.before);
});

test('a failure in the cleanup after commit is a warning, not a failure; the next run finishes the cleanup', async (t) => {
  const w = await world(t, ...SCENARIO);
  for (const fault of [
    once((c) => c.op === 'unlinkSync' && /\/txn-[^/]+\/[bs]\//.test(String(c.args[0]))),
    once((c) => c.op === 'openSync' && String(c.args[0]).includes('/committed/')),
    once((c) => c.op === 'rmdirSync'),
  ]) {
    w.restore();
    const a = await attempt(w, fault);
    assert.equal(a.error, undefined, String(a.error));
    assert.equal(a.fs.failed.length, 1);
    const warning = a.result!.warnings.find((x) => x.code === 'CLEANUP_FAILED');
    assert.ok(warning, JSON.stringify(a.result!.warnings));
    assert.match(warning.message, /^the transaction is committed, but cleaning up after it failed: EIO.*the next egginst or enpkg run on /);
    assert.deepEqual(
      listInstalled(w.prefix)
        .map((p) => `${p.key} ${p.version}`)
        .sort(),
      ['libbar 2.0', 'libfoo 1.0.0', 'links 1.0', 'upg 2.0'],
    );
    const rec = recoverPrefix(w.prefix);
    assert.deepEqual(
      rec.map((r) => r.outcome),
      ['completed'],
    );
    settle(w.prefix);
    assert.equal(await treeHash(w.prefix), w.after);
    noTransactionLeft(w.prefix);
  }
});

test('an interrupt (the abort signal) during the apply rolls back as INTERRUPTED', async (t) => {
  const w = await world(t, ...SCENARIO);
  const apply = applyRenames(await probe(w));
  const controller = new AbortController();
  const a = await attempt(
    w,
    (c) => {
      if (c.op === 'renameSync' && c.n === apply[2]) controller.abort();
      return undefined;
    },
    { signal: controller.signal },
  );
  const e = pkgError(a, 'INTERRUPTED');
  assert.match(e.message, /^interrupted while moving files into place; every change was rolled back$/);
  assert.equal(await treeHash(w.prefix), w.before);
  noTransactionLeft(w.prefix);
});

test('a failing post-install script rolls back; if its rollback fails too, recovery finishes it', async (t) => {
  const w = await world(t, ['upg-1.0-1', 'data-1.0-1'], [install('upg-2.0-1'), install('data-1.0-1')]);
  w.jobs = [install('upg-2.0-1'), install('failpost-1.0-1'), { kind: 'remove', key: 'data' }];
  const a = await attempt(w, () => undefined);
  const e = pkgError(a, 'SCRIPT_FAILED');
  assert.match(e.message, /post-install script .* of failpost exited with status 3/);
  assert.equal(await treeHash(w.prefix), w.before);
  noTransactionLeft(w.prefix);

  // The rollback's first look at the disk fails: nothing is undone, all of it is left to recovery.
  const b = await attempt(
    w,
    once((c) => c.op === 'lstatSync'),
  );
  const rb = pkgError(b, 'ROLLBACK_FAILED');
  assert.ok(rb.cause instanceof PkgError && rb.cause.code === 'SCRIPT_FAILED', 'the script failure is the cause');
  assert.match(rb.message, /^the post-install script .*; then rolling back failed too: cannot .*: EIO/);
  assert.notEqual(await treeHash(w.prefix), w.before);
  assert.deepEqual(
    recoverPrefix(w.prefix).map((r) => r.outcome),
    ['rolled-back'],
  );
  assert.equal(await treeHash(w.prefix), w.before);
  noTransactionLeft(w.prefix);
});

test('every single failing call of every fs operation: the before tree, or the after tree with a warning', async (t) => {
  const w = await world(t, ...SCENARIO);
  const calls = await probe(w);
  let rolledBack = 0;
  let committed = 0;
  for (const op of FS_OPS) {
    const total = calls.filter((c) => c.op === op).length;
    for (let k = 1; k <= total; k++) {
      w.restore();
      const a = await attempt(w, nth(op, k));
      assert.equal(a.fs.failed.length, 1, `${op} #${k} was reached`);
      const label = `${op} #${k} (${String(a.fs.failed[0]!.args[0])})`;
      if (a.error !== undefined) {
        assert.ok(a.error instanceof PkgError, `${label}: a PkgError, not ${String(a.error)}`);
        keepsCause(a.error, a.fs);
        assert.equal(await treeHash(w.prefix), w.before, `${label}: ${a.error.code} ${a.error.message}`);
        noTransactionLeft(w.prefix);
        rolledBack++;
      } else {
        settle(w.prefix);
        assert.equal(await treeHash(w.prefix), w.after, `${label} after commit`);
        noTransactionLeft(w.prefix);
        committed++;
      }
    }
  }
  assert.ok(rolledBack >= 30 && committed >= 5, `${rolledBack} rolled back, ${committed} committed`);
});
