/**
 * The one error base class of the project (egginst and enpkg). Codes are stable: never renumber or
 * reuse one; add new ones at the end of their group. Only the CLIs turn errors into text.
 */

export const ErrorCodes = {
  // usage and input files
  USAGE: 'USAGE',
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  EGG_NAME_INVALID: 'EGG_NAME_INVALID',
  PREFIX_INVALID: 'PREFIX_INVALID',
  // archive structure (all detected before the prefix is touched, except CRC/size during staging)
  ARCHIVE_CORRUPT: 'ARCHIVE_CORRUPT',
  ARCHIVE_EMPTY: 'ARCHIVE_EMPTY',
  ARCHIVE_UNSAFE_PATH: 'ARCHIVE_UNSAFE_PATH',
  ARCHIVE_DUPLICATE_NAME: 'ARCHIVE_DUPLICATE_NAME',
  ARCHIVE_UNSUPPORTED: 'ARCHIVE_UNSUPPORTED',
  ARCHIVE_SPECIAL_FILE: 'ARCHIVE_SPECIAL_FILE',
  ARCHIVE_BAD_MODE: 'ARCHIVE_BAD_MODE',
  ARCHIVE_LINK_OUTSIDE: 'ARCHIVE_LINK_OUTSIDE',
  ARCHIVE_WRITE_THROUGH_LINK: 'ARCHIVE_WRITE_THROUGH_LINK',
  ARCHIVE_HEADER_MISMATCH: 'ARCHIVE_HEADER_MISMATCH',
  ARCHIVE_OVERLAP: 'ARCHIVE_OVERLAP',
  ARCHIVE_SIZE_MISMATCH: 'ARCHIVE_SIZE_MISMATCH',
  ARCHIVE_CRC_MISMATCH: 'ARCHIVE_CRC_MISMATCH',
  ARCHIVE_LIMIT: 'ARCHIVE_LIMIT',
  // metadata
  METADATA_INVALID: 'METADATA_INVALID',
  METADATA_MISMATCH: 'METADATA_MISMATCH',
  // the prefix and its packages
  NO_SPACE: 'NO_SPACE',
  FILE_CONFLICT: 'FILE_CONFLICT',
  NOT_INSTALLED: 'NOT_INSTALLED',
  RECORD_INVALID: 'RECORD_INVALID',
  PREFIX_LOCKED: 'PREFIX_LOCKED',
  UNSAFE_PREFIX_PATH: 'UNSAFE_PREFIX_PATH',
  // scripts
  SCRIPT_FAILED: 'SCRIPT_FAILED',
  SCRIPT_TIMEOUT: 'SCRIPT_TIMEOUT',
  PYTHON_NOT_FOUND: 'PYTHON_NOT_FOUND',
  // transactions
  TRANSACTION_STATE: 'TRANSACTION_STATE',
  RECOVERY_FAILED: 'RECOVERY_FAILED',
  ROLLBACK_FAILED: 'ROLLBACK_FAILED',
  IO: 'IO',
  INTERRUPTED: 'INTERRUPTED',
  // the program itself: a bug, never an expected failure
  INTERNAL: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes] | (string & {});

export interface PkgErrorOptions {
  /** What the user can do about it. */
  hint?: string;
  cause?: unknown;
  /** Machine-readable facts (entry name, path, package) for --json output. */
  details?: Record<string, unknown>;
}

export class PkgError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: PkgErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'PkgError';
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      message: this.message,
      ...(this.hint ? { hint: this.hint } : {}),
      ...(Object.keys(this.details).length ? { details: this.details } : {}),
    };
  }
}

export function isPkgError(e: unknown): e is PkgError {
  return e instanceof PkgError;
}

/** Wrap an unexpected error (an fs failure, say) so that it carries a code and names its subject. */
export function asPkgError(e: unknown, what: string): PkgError {
  if (e instanceof PkgError) return e;
  const err = e as NodeJS.ErrnoException;
  if (err && err.code === 'ENOSPC') {
    return new PkgError(ErrorCodes.NO_SPACE, `no space left on device while ${what}`, {
      hint: 'free some space and run the command again',
      cause: e,
    });
  }
  const msg = err && typeof err.message === 'string' ? err.message : String(e);
  return new PkgError(ErrorCodes.IO, `${what}: ${msg}`, { cause: e });
}
