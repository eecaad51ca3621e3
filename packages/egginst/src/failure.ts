/**
 * How a failed transaction is described: which errors are the system's (an errno) rather than
 * egginst's own bugs, what running out of space needs and has (the precheck and a late ENOSPC say it
 * the same way), and what a rollback that failed left where.
 */
import { ErrorCodes, PkgError, asPkgError, isPkgError } from './errors.js';
import type { TransactionFs } from './journal.js';

/** An error from the operating system (it has an errno code such as ENOENT), not a bug of ours. */
export function isSystemError(e: unknown): e is NodeJS.ErrnoException {
  return (
    e instanceof Error && typeof (e as NodeJS.ErrnoException).code === 'string' && /^E[A-Z0-9]+$/.test((e as NodeJS.ErrnoException).code!)
  );
}

/** A PkgError or an error of the system: an expected failure. Anything else is a bug. */
export function isExpectedFailure(e: unknown): boolean {
  return isPkgError(e) || isSystemError(e);
}

/** Free bytes for an unprivileged user on the filesystem holding `path`, or undefined when statfs fails. */
export function freeBytes(fs: Pick<TransactionFs, 'statfsSync'>, path: string): number | undefined {
  try {
    const st = fs.statfsSync(path);
    return st.bavail * st.bsize;
  } catch {
    return undefined;
  }
}

export interface NoSpace {
  /** Where the transaction writes (the prefix). */
  path: string;
  /** Bytes the transaction needs there, when known. */
  needed?: number | undefined;
  /** Bytes free there (now), when known. */
  available?: number | undefined;
  /** The step that hit ENOSPC; none for the precheck. */
  during?: string;
  cause?: unknown;
}

/** NO_SPACE, saying how much the transaction needs where and how much is free: one wording for the precheck and for ENOSPC. */
export function noSpaceError(o: NoSpace): PkgError {
  const facts = [
    o.needed !== undefined && o.needed > 0 ? `the transaction needs about ${mib(o.needed)} there` : undefined,
    o.available !== undefined ? `${mib(o.available)} is free` : undefined,
  ].filter((s) => s !== undefined);
  const what = o.during ? `no space left on device in ${o.path} while ${o.during}` : `not enough space in ${o.path}`;
  const short = o.needed !== undefined && o.available !== undefined ? o.needed - o.available : 0;
  return new PkgError(ErrorCodes.NO_SPACE, facts.length ? `${what}: ${facts.join(', ')}` : what, {
    hint:
      short > 0
        ? `free at least ${mib(short)} on the filesystem holding ${o.path} and run the command again`
        : `free some space on the filesystem holding ${o.path} and run the command again`,
    ...(o.cause === undefined ? {} : { cause: o.cause }),
    details: {
      path: o.path,
      ...(o.needed === undefined ? {} : { needed: o.needed }),
      ...(o.available === undefined ? {} : { available: o.available }),
      ...(o.during ? { step: o.during } : {}),
    },
  });
}

/** The precheck: refuse before anything is written when the filesystem has less than `needed` free. */
export function checkSpace(fs: Pick<TransactionFs, 'statfsSync'>, path: string, needed: number): void {
  if (needed === 0) return;
  const available = freeBytes(fs, path);
  if (available !== undefined && needed > available) throw noSpaceError({ path, needed, available });
}

/** The error a failed step becomes: PkgErrors as they are, ENOSPC as NO_SPACE, other system errors as IO; bugs unchanged. */
export function describeFailure(e: unknown, step: string, space: () => Omit<NoSpace, 'during' | 'cause'>): unknown {
  if (isPkgError(e) || !isSystemError(e)) return e;
  if (e.code === 'ENOSPC') return noSpaceError({ ...space(), during: step, cause: e });
  return asPkgError(e, step);
}

/**
 * The failure of a rollback (`undo`, a ROLLBACK_FAILED from undoOps saying what is left where) after
 * the failure that caused it: the rollback's message and hint, the original error as the cause.
 */
export function rollbackFailed(original: unknown, undo: unknown): PkgError {
  const first = firstLine(original instanceof Error ? original.message : String(original));
  const u = isPkgError(undo) ? undo : asPkgError(undo, 'rolling back');
  const undoCause = u.cause instanceof Error ? u.cause.message : undefined;
  return new PkgError(ErrorCodes.ROLLBACK_FAILED, `${first}; then rolling back failed too: ${u.message}`, {
    ...(u.hint ? { hint: u.hint } : {}),
    cause: original,
    details: { ...u.details, ...(undoCause ? { rollbackError: undoCause } : {}) },
  });
}

export function firstLine(s: string): string {
  const i = s.indexOf('\n');
  return i === -1 ? s : s.slice(0, i);
}

export const mib = (n: number): string => `${(n / 2 ** 20).toFixed(1)} MiB`;
