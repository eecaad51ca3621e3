/**
 * The journal: the ordered renames of one transaction, written durably before the first rename.
 * Every step is a rename, so each is either done or not, and whether it is done can be read off
 * the disk: undo and cleanup are idempotent and may be repeated after a crash at any point.
 */
import * as nodeFs from 'node:fs';
import { readFileSync, readdirSync, rmSync, rmdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { crashPoint } from './crash.js';
import { flushFilesystem, fsyncDir } from './durable.js';
import { ErrorCodes, PkgError, isPkgError, WarningCodes } from './errors.js';
import { isSystemError } from './failure.js';
import { INTERNAL_DIR } from './paths.js';
import { removeTree, type SpareSink, startRemoveTrees, type TreeThreads } from './tree-ops.js';
import type { Op } from './plan.js';
import type { Change, Warning } from './types.js';

/**
 * The filesystem operations of the journal, apply, undo, recovery and cleanup, and of staging's own
 * writes: node:fs unless the caller injects others (tests inject failing ones to walk every rollback).
 */
export type TransactionFs = Pick<
  typeof nodeFs,
  | 'closeSync'
  | 'fsyncSync'
  | 'lstatSync'
  | 'mkdirSync'
  | 'openSync'
  | 'readFileSync'
  | 'readdirSync'
  | 'renameSync'
  | 'rmSync'
  | 'rmdirSync'
  | 'statfsSync'
  | 'symlinkSync'
  | 'unlinkSync'
  | 'writeFileSync'
>;

export const defaultFs: TransactionFs = nodeFs;

/** What every step of a transaction on disk works with. */
export interface JournalContext {
  prefix: string;
  fs: TransactionFs;
  /** fsync the journal and what the renames touched. */
  durable: boolean;
  /** The worker threads the cleanup shares its removals with (default: its own, for the one cleanup). */
  threads?: TreeThreads;
  /** The files the transaction wrote, as they are in the prefix once renamed: made durable with the renames, before the commit. */
  unflushed?: () => Iterable<string>;
  /** Where the cleanup keeps the directories it empties (default: it removes them). */
  spare?: () => SpareSink | undefined;
}

export interface Journal {
  version: 1;
  id: string;
  /** prepared: renames may have started, roll back on recovery. committed: roll forward (clean up). */
  state: 'prepared' | 'committed';
  created: string;
  ops: Op[];
  prune: string[];
  changes: Change[];
  /** Opaque data of the caller (enpkg keeps its pending revision here). */
  payload?: unknown;
}

export const JOURNAL_FILE = 'journal.json';

export function internalDir(prefix: string): string {
  return join(prefix, INTERNAL_DIR);
}

export function txnDir(prefix: string, id: string): string {
  return join(prefix, INTERNAL_DIR, id);
}

function exists(fs: TransactionFs, p: string): boolean {
  try {
    fs.lstatSync(p);
    return true;
  } catch (e) {
    if (isMissing(e)) return false;
    throw e;
  }
}

function isMissing(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/** Write the journal atomically (temp file, fsync, rename, fsync of the directory). */
export function writeJournal(ctx: JournalContext, j: Journal): void {
  const { fs } = ctx;
  const dir = txnDir(ctx.prefix, j.id);
  const tmp = join(dir, `${JOURNAL_FILE}.tmp`);
  const fd = fs.openSync(tmp, 'w', 0o644);
  try {
    fs.writeFileSync(fd, JSON.stringify(j));
    if (ctx.durable) fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  fs.renameSync(tmp, join(dir, JOURNAL_FILE));
  if (ctx.durable) fsyncDir(dir);
}

/** The journal of a transaction directory; null when it has none (it was never written, or already removed). */
export function readJournal(ctx: JournalContext, id: string): Journal | null {
  const { prefix } = ctx;
  let text: string;
  try {
    text = ctx.fs.readFileSync(join(txnDir(prefix, id), JOURNAL_FILE), 'utf8');
  } catch (e) {
    // Only a journal that is not there means "nothing to roll back": one that cannot be read is not discarded.
    if (isMissing(e)) return null;
    throw e;
  }
  try {
    const j = JSON.parse(text) as Journal;
    if (j.version !== 1 || !Array.isArray(j.ops)) throw new Error('unknown journal version');
    return j;
  } catch (e) {
    throw new PkgError(
      ErrorCodes.RECOVERY_FAILED,
      `the transaction journal ${join(txnDir(prefix, id), JOURNAL_FILE)} is unreadable: ${(e as Error).message}`,
      {
        hint: 'the prefix needs inspection by hand; nothing was changed',
        cause: e,
      },
    );
  }
}

/** Ids of transaction directories left in the prefix. */
export function pendingTransactions(ctx: JournalContext): string[] {
  try {
    return ctx.fs
      .readdirSync(internalDir(ctx.prefix))
      .filter((n) => n.startsWith('txn-'))
      .sort();
  } catch (e) {
    if (isMissing(e)) return [];
    throw e;
  }
}

/** Do the renames, in order. `onStep` runs after each (crash points, interruption checks). */
export function applyOps(ctx: JournalContext, j: Journal, onStep: (i: number) => void): void {
  const { prefix, fs } = ctx;
  const dir = txnDir(prefix, j.id);
  const touched = new Set<string>();
  for (let i = 0; i < j.ops.length; i++) {
    const op = j.ops[i]!;
    const path = join(prefix, op.path);
    if (op.op === 'mkdir') {
      try {
        fs.mkdirSync(path, 0o755);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    } else if (op.op === 'backup') fs.renameSync(path, join(dir, op.backup));
    else fs.renameSync(join(dir, op.staged), path);
    touched.add(dirname(path));
    crashPoint('apply');
    onStep(i);
  }
  // One flush for the staged files and the renames: the commit is written only after it.
  const unflushed = ctx.unflushed;
  if (ctx.durable) flushFilesystem(prefix, () => [...(unflushed?.() ?? []), ...touched]);
  delete ctx.unflushed;
}

/**
 * Undo every rename that was done, newest first. Safe to repeat. On a failure it stops (an earlier
 * step may depend on this one) and throws ROLLBACK_FAILED saying what is left where: the journal
 * stays, so the next recovery takes up the rollback again.
 */
export function undoOps(ctx: JournalContext, j: Journal, warnings: Warning[]): void {
  const { prefix, fs } = ctx;
  const dir = txnDir(prefix, j.id);
  for (let i = j.ops.length - 1; i >= 0; i--) {
    const op = j.ops[i]!;
    const path = join(prefix, op.path);
    try {
      if (op.op === 'place') {
        const staged = join(dir, op.staged);
        if (!exists(fs, staged) && exists(fs, path)) fs.renameSync(path, staged);
      } else if (op.op === 'backup') {
        const backup = join(dir, op.backup);
        if (exists(fs, backup)) fs.renameSync(backup, path);
      } else if (exists(fs, path)) {
        fs.rmdirSync(path);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (op.op === 'mkdir' && (code === 'ENOTEMPTY' || code === 'EEXIST')) {
        warnings.push({
          code: WarningCodes.ROLLBACK_DIR_KEPT,
          message: `${op.path} was kept: something else was put in it`,
          subject: j.id,
        });
      } else {
        throw undoFailed(ctx, j, i, e);
      }
    }
    crashPoint('undo');
  }
}

function undoFailed(ctx: JournalContext, j: Journal, i: number, e: unknown): PkgError {
  if (!isSystemError(e) && !isPkgError(e)) return e as PkgError;
  const op = j.ops[i]!;
  const dir = txnDir(ctx.prefix, j.id);
  const what =
    op.op === 'place'
      ? `move ${op.path} back to ${join(dir, op.staged)}`
      : op.op === 'backup'
        ? `put the original ${op.path} back from ${join(dir, op.backup)}`
        : `remove the directory ${op.path} it made`;
  return new PkgError(
    ErrorCodes.ROLLBACK_FAILED,
    `cannot ${what}: ${(e as Error).message}. The first ${i + 1} of ${j.ops.length} steps of the transaction may still be in ` +
      `place, so ${ctx.prefix} is partly changed; the journal and the files moved aside are in ${dir}`,
    {
      hint:
        `fix the cause, then run egginst on this prefix again (egginst --prefix ${ctx.prefix} --list will do): it finishes the ` +
        `rollback before anything else. Do not delete ${dir}: it holds the original files`,
      cause: e,
      details: { transaction: j.id, journal: dir, path: op.path, step: op.op, stepsLeft: i + 1 },
    },
  );
}

/** Where committed journals that carry a caller's payload wait until the caller acknowledges them. */
export function committedDir(prefix: string): string {
  return join(prefix, INTERNAL_DIR, 'committed');
}

/** After commit: delete backups and staging, prune emptied directories, drop the transaction. */
export function cleanup(ctx: JournalContext, j: Journal): void {
  startCleanup(ctx, j)();
}

/**
 * cleanup in two halves: the caller's copy of the journal is kept and the removal of what was moved
 * aside starts in the worker threads (ctx.threads) now; the returned function finishes it in this
 * thread (its share of the removal, the pruning, the transaction's directory). Between the two the
 * caller is free to do other work: the transaction is committed, and recovery finishes a cleanup cut
 * short by a crash.
 */
export function startCleanup(ctx: JournalContext, j: Journal): () => void {
  const { prefix, fs } = ctx;
  const dir = txnDir(prefix, j.id);
  if (j.payload !== undefined) {
    // Whoever finishes the cleanup (egginst or enpkg), the caller still learns what was committed.
    fs.mkdirSync(committedDir(prefix), { recursive: true });
    const kept = join(committedDir(prefix), `${j.id}.json`);
    const fd = fs.openSync(`${kept}.tmp`, 'w', 0o644);
    try {
      fs.writeFileSync(fd, JSON.stringify(j));
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(`${kept}.tmp`, kept);
    fsyncDir(committedDir(prefix));
  }
  // What was moved aside and what is left of staging, shared between threads (tree-ops.ts).
  const spare = ctx.spare?.();
  const removal = startRemoveTrees([join(dir, 'b'), join(dir, 's')], {
    fs,
    onOp: () => crashPoint('cleanup'),
    ...(ctx.threads ? { threads: ctx.threads } : {}),
    ...(spare ? { spare } : {}),
  });
  return () => {
    removal.finish();
    crashPoint('cleanup');
    for (const d of j.prune) {
      try {
        fs.rmdirSync(join(prefix, d));
      } catch (e) {
        // Not empty, or already gone, is fine; anything else leaves the cleanup to the next run.
        const code = (e as NodeJS.ErrnoException).code;
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && !isMissing(e)) throw e;
      }
    }
    crashPoint('cleanup');
    discard(ctx, j.id);
  };
}

/**
 * Remove a transaction directory whose work is done (rolled back, or committed and cleaned up), and
 * .egginst if empty. The journal goes first: once the staged and moved-aside files start to go, no
 * later recovery may act on it (a directory without a journal is only discarded).
 */
export function discard(ctx: JournalContext, id: string): void {
  const { fs } = ctx;
  const dir = txnDir(ctx.prefix, id);
  fs.rmSync(join(dir, JOURNAL_FILE), { force: true });
  for (const sub of [`${JOURNAL_FILE}.tmp`, 'b', 's']) removeTree(fs, join(dir, sub));
  removeTree(fs, dir);
  try {
    fs.rmdirSync(internalDir(ctx.prefix));
  } catch {
    // not empty (another transaction, or a kept payload)
  }
}

/** Committed transactions whose payload the caller has not acknowledged yet, oldest first. */
export function committedPayloads(prefix: string): Journal[] {
  let names: string[];
  try {
    names = readdirSync(committedDir(prefix))
      .filter((n) => n.endsWith('.json'))
      .sort();
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(committedDir(prefix), n), 'utf8')) as Journal);
}

/** The caller has recorded this transaction: forget it. */
export function acknowledgeCommitted(prefix: string, id: string): void {
  rmSync(join(committedDir(prefix), `${id}.json`), { force: true });
  for (const d of [committedDir(prefix), internalDir(prefix)]) {
    try {
      rmdirSync(d);
    } catch {
      return;
    }
  }
}
