/**
 * The journal: the ordered renames of one transaction, written durably before the first rename.
 * Every step is a rename, so each is either done or not, and whether it is done can be read off
 * the disk: undo and cleanup are idempotent and may be repeated after a crash at any point.
 */
import {
  closeSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { crashPoint } from './crash.js';
import { flushFilesystem, fsyncDir, writeFileDurably } from './durable.js';
import { ErrorCodes, PkgError } from './errors.js';
import { INTERNAL_DIR } from './paths.js';
import type { Op } from './plan.js';
import type { Change, Reporter, Warning } from './types.js';

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

function exists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** Write the journal atomically (temp file, fsync, rename, fsync of the directory). */
export function writeJournal(prefix: string, j: Journal, durable: boolean): void {
  const dir = txnDir(prefix, j.id);
  writeFileDurably(join(dir, JOURNAL_FILE), JSON.stringify(j), { durable, tmp: join(dir, `${JOURNAL_FILE}.tmp`) });
}

export function readJournal(prefix: string, id: string): Journal | null {
  let text: string;
  try {
    text = readFileSync(join(txnDir(prefix, id), JOURNAL_FILE), 'utf8');
  } catch {
    return null;
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
export function pendingTransactions(prefix: string): string[] {
  try {
    return readdirSync(internalDir(prefix))
      .filter((n) => n.startsWith('txn-'))
      .sort();
  } catch {
    return [];
  }
}

/** Do the renames, in order. `onStep` runs after each (crash points, interruption checks). */
export function applyOps(prefix: string, j: Journal, durable: boolean, onStep: (i: number) => void): void {
  const dir = txnDir(prefix, j.id);
  const touched = new Set<string>();
  for (let i = 0; i < j.ops.length; i++) {
    const op = j.ops[i]!;
    const path = join(prefix, op.path);
    if (op.op === 'mkdir') {
      try {
        mkdirSync(path, 0o755);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
    } else if (op.op === 'backup') renameSync(path, join(dir, op.backup));
    else renameSync(join(dir, op.staged), path);
    touched.add(dirname(path));
    crashPoint('apply');
    onStep(i);
  }
  if (durable) flushFilesystem(prefix, () => touched);
}

/** Undo every rename that was done, newest first. Safe to repeat. */
export function undoOps(prefix: string, j: Journal, warnings: Warning[]): void {
  const dir = txnDir(prefix, j.id);
  for (let i = j.ops.length - 1; i >= 0; i--) {
    const op = j.ops[i]!;
    const path = join(prefix, op.path);
    try {
      if (op.op === 'place') {
        const staged = join(dir, op.staged);
        if (!exists(staged) && exists(path)) renameSync(path, staged);
      } else if (op.op === 'backup') {
        const backup = join(dir, op.backup);
        if (exists(backup)) renameSync(backup, path);
      } else if (exists(path)) {
        rmdirSync(path);
      }
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (op.op === 'mkdir' && (code === 'ENOTEMPTY' || code === 'EEXIST')) {
        warnings.push({ code: 'ROLLBACK_DIR_KEPT', message: `${op.path} was kept: something else was put in it`, subject: j.id });
      } else {
        throw new PkgError(ErrorCodes.ROLLBACK_FAILED, `rolling back ${op.op} of ${op.path} failed: ${(e as Error).message}`, {
          hint: 'run egginst again to retry the recovery',
          cause: e,
        });
      }
    }
    crashPoint('undo');
  }
}

/** Where committed journals that carry a caller's payload wait until the caller acknowledges them. */
export function committedDir(prefix: string): string {
  return join(prefix, INTERNAL_DIR, 'committed');
}

/** After commit: delete backups and staging, prune emptied directories, drop the transaction. */
export function cleanup(prefix: string, j: Journal): void {
  const dir = txnDir(prefix, j.id);
  if (j.payload !== undefined) {
    // Whoever finishes the cleanup (egginst or enpkg), the caller still learns what was committed.
    mkdirSync(committedDir(prefix), { recursive: true });
    const kept = join(committedDir(prefix), `${j.id}.json`);
    const fd = openSync(`${kept}.tmp`, 'w', 0o644);
    try {
      writeFileSync(fd, JSON.stringify(j));
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(`${kept}.tmp`, kept);
    fsyncDir(committedDir(prefix));
  }
  for (const sub of ['b', 's']) {
    rmSync(join(dir, sub), { recursive: true, force: true });
    crashPoint('cleanup');
  }
  for (const d of j.prune) {
    try {
      rmdirSync(join(prefix, d));
    } catch {
      // not empty, or already gone
    }
  }
  crashPoint('cleanup');
  discard(prefix, j.id);
}

/** Remove a transaction directory (journal last, so an interrupted removal is still recognisable) and .egginst if empty. */
export function discard(prefix: string, id: string): void {
  const dir = txnDir(prefix, id);
  for (const sub of ['b', 's', `${JOURNAL_FILE}.tmp`]) rmSync(join(dir, sub), { recursive: true, force: true });
  rmSync(join(dir, JOURNAL_FILE), { force: true });
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(internalDir(prefix));
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

export interface RecoveryOutcome {
  id: string;
  outcome: 'rolled-back' | 'completed' | 'discarded';
  journal: Journal | null;
}

/** Finish or roll back whatever a crashed run left in the prefix. Call with the prefix locked. */
export function recoverPrefix(prefix: string, reporter: Reporter = {}): RecoveryOutcome[] {
  const out: RecoveryOutcome[] = [];
  for (const id of pendingTransactions(prefix)) {
    const j = readJournal(prefix, id);
    const warnings: Warning[] = [];
    if (!j) {
      discard(prefix, id);
      out.push({ id, outcome: 'discarded', journal: null });
      continue;
    }
    reporter.progress?.({ phase: 'recover', subject: id, done: 0, total: j.ops.length, unit: 'steps' });
    if (j.state === 'committed') {
      cleanup(prefix, j);
      out.push({ id, outcome: 'completed', journal: j });
    } else {
      undoOps(prefix, j, warnings);
      discard(prefix, id);
      out.push({ id, outcome: 'rolled-back', journal: j });
    }
    for (const w of warnings) reporter.warn?.(w);
    reporter.info?.(`recovered unfinished transaction ${id}: ${out[out.length - 1]!.outcome}`);
  }
  return out;
}
