/**
 * The one error base class of the project (egginst and enpkg), with a code from the closed set of
 * codes.ts (egginst's, and those other packages register there). Only the CLIs turn errors into text.
 */
import { type ErrorCode, ErrorCodes } from './codes.js';

export {
  type ErrorCode,
  ErrorCodes,
  WarningCodes,
  type WarningCode,
  type ErrorCodeExtensions,
  type WarningCodeExtensions,
} from './codes.js';

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
