/**
 * Recovery: what a crashed (or failed, or killed) run left in the prefix is finished or rolled back
 * from its journal, before anything else happens to the prefix.
 */
import { ErrorCodes, PkgError, isPkgError, WarningCodes } from './errors.js';
import { isSystemError } from './failure.js';
import {
  cleanup,
  defaultFs,
  discard,
  internalDir,
  pendingTransactions,
  readJournal,
  txnDir,
  undoOps,
  type Journal,
  type JournalContext,
  type TransactionFs,
} from './journal.js';
import { NO_REPORTER } from './reporter.js';
import type { Reporter, Warning } from './types.js';

export interface RecoveryOutcome {
  id: string;
  outcome: 'rolled-back' | 'completed' | 'discarded';
  journal: Journal | null;
}

export interface RecoveryOptions {
  /** The filesystem operations to use (default node:fs). */
  fs?: TransactionFs;
}

/**
 * Finish or roll back whatever a crashed run left in the prefix. Call with the prefix locked.
 * A rollback that cannot be finished is RECOVERY_FAILED (its cause the failure), and the journal
 * stays for the next try; a committed transaction whose cleanup fails is reported as a warning.
 */
export function recoverPrefix(prefix: string, reporter: Reporter = NO_REPORTER, opts: RecoveryOptions = {}): RecoveryOutcome[] {
  const ctx: JournalContext = { prefix, fs: opts.fs ?? defaultFs, durable: true };
  const out: RecoveryOutcome[] = [];
  let id = '';
  try {
    for (id of pendingTransactions(ctx)) {
      const j = readJournal(ctx, id);
      const warnings: Warning[] = [];
      if (!j) {
        discard(ctx, id);
        out.push({ id, outcome: 'discarded', journal: null });
        continue;
      }
      reporter.report({ type: 'install', progress: { phase: 'recover', subject: id, done: 0, total: j.ops.length, unit: 'steps' } });
      if (j.state === 'committed') {
        try {
          cleanup(ctx, j);
        } catch (e) {
          if (!isSystemError(e)) throw e;
          warnings.push(cleanupFailed(ctx, j.id, e));
        }
        out.push({ id, outcome: 'completed', journal: j });
      } else {
        undoOps(ctx, j, warnings);
        try {
          discard(ctx, id);
        } catch (e) {
          if (!isSystemError(e)) throw e;
          warnings.push(leftover(ctx, id, e));
        }
        out.push({ id, outcome: 'rolled-back', journal: j });
      }
      for (const warning of warnings) reporter.report({ type: 'warning', warning });
      reporter.report({ type: 'info', message: `recovered unfinished transaction ${id}: ${out[out.length - 1]!.outcome}` });
    }
  } catch (e) {
    throw recoveryFailed(ctx, id, e);
  }
  return out;
}

function recoveryFailed(ctx: JournalContext, id: string, e: unknown): unknown {
  if ((isPkgError(e) && e.code === ErrorCodes.RECOVERY_FAILED) || (!isPkgError(e) && !isSystemError(e))) return e;
  const where = id ? `the unfinished transaction ${id} in ${ctx.prefix}` : `the unfinished transactions in ${ctx.prefix}`;
  return new PkgError(ErrorCodes.RECOVERY_FAILED, `cannot finish ${where}: ${(e as Error).message}`, {
    hint:
      isPkgError(e) && e.hint
        ? e.hint
        : 'fix the cause, then run egginst on this prefix again: it retries the recovery before anything else. ' +
          `Do not delete ${internalDir(ctx.prefix)}`,
    cause: e,
    details: { ...(isPkgError(e) ? e.details : {}), ...(id ? { transaction: id, journal: txnDir(ctx.prefix, id) } : {}) },
  });
}

/** The warning for a committed transaction whose cleanup failed: nothing is wrong with the prefix, only leftovers. */
export function cleanupFailed(ctx: JournalContext, id: string, e: unknown): Warning {
  return {
    code: WarningCodes.CLEANUP_FAILED,
    message:
      `the transaction is committed, but cleaning up after it failed: ${(e as Error).message}; the next egginst or enpkg run on ` +
      `${ctx.prefix} finishes the cleanup (what is left is in ${txnDir(ctx.prefix, id)})`,
    subject: id,
  };
}

/** The warning for a rolled-back transaction whose directory could not be removed. */
export function leftover(ctx: JournalContext, id: string, e: unknown): Warning {
  const dir = txnDir(ctx.prefix, id);
  return {
    code: WarningCodes.ROLLBACK_LEFTOVER,
    message: `everything was rolled back, but ${dir} could not be removed: ${(e as Error).message}; the next run removes it`,
    subject: id,
  };
}
