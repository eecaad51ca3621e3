/**
 * Error codes of the fetch stage (downloads, the egg cache), and the errors that name an egg, its
 * repository and the location (URL redacted) it came from. Never renumber or reuse a code; add new
 * ones at the end. An interrupted fetch is egginst's `INTERRUPTED`, like every other interrupt.
 */
import { FetchErrorCodes } from '../codes.js';
import { PkgError } from '../errors.js';

export { FetchErrorCodes, FetchWarningCodes, type FetchErrorCode } from '../codes.js';

/** Which egg, from where: `app-1.0-1.egg from repository main (https://host/main/app-1.0-1.egg)`. */
export interface EggSubject {
  readonly eggName: string;
  readonly repository: string;
  /** The file or redacted URL the bytes came from. */
  readonly shown: string;
}

const describe = (s: EggSubject): string => `${s.eggName} from repository ${s.repository} (${s.shown})`;
const facts = (s: EggSubject): Record<string, unknown> => ({ egg: s.eggName, repository: s.repository, location: s.shown });

const TAMPERED_HINT =
  'the repository\'s file does not match its index: it is damaged, was replaced without re-indexing ("enpkg repo index"), ' +
  "or was tampered with; tell the repository's publisher, or try again later";

export function sizeMismatch(s: EggSubject, expected: number, actual: number | string): PkgError {
  return new PkgError(
    FetchErrorCodes.EGG_SIZE_MISMATCH,
    `${describe(s)}: size mismatch: expected ${expected} bytes, got ${actual}${typeof actual === 'number' ? ' bytes' : ''}`,
    {
      hint: TAMPERED_HINT,
      details: { ...facts(s), expected, actual },
    },
  );
}

export function hashMismatch(s: EggSubject, algorithm: 'sha256' | 'md5', expected: string, actual: string): PkgError {
  return new PkgError(FetchErrorCodes.EGG_HASH_MISMATCH, `${describe(s)}: ${algorithm} mismatch: expected ${expected}, got ${actual}`, {
    hint: TAMPERED_HINT,
    details: { ...facts(s), algorithm, expected, actual },
  });
}

export function notFound(s: EggSubject): PkgError {
  return new PkgError(FetchErrorCodes.EGG_NOT_FOUND, `${describe(s)}: not found`, {
    hint: "the repository's index names an egg it does not have: tell its publisher, or refresh the index and try again",
    details: facts(s),
  });
}

const WHY: ReadonlyMap<string, string> = new Map([
  ['EACCES', 'permission denied'],
  ['EPERM', 'operation not permitted'],
  ['EROFS', 'read-only file system'],
  ['ENOSPC', 'no space left on device'],
  ['EDQUOT', 'disk quota exceeded'],
  ['ENOTDIR', 'a part of the path is a file, not a directory'],
  ['EEXIST', 'a part of the path is a file, not a directory'],
  ['EISDIR', 'it is a directory'],
  ['EFTYPE', 'not a regular file'],
]);

function why(e: unknown): { code: string | undefined; text: string } {
  const code = (e as NodeJS.ErrnoException).code;
  const known = code === undefined ? undefined : WHY.get(code);
  return { code, text: known ? `${known} (${code})` : (code ?? (e as Error).message) };
}

/** The cache (`what`: the egg cache, the index cache) cannot be written at `path`. */
export function cacheWriteFailed(path: string, e: unknown, what = 'the egg cache'): PkgError {
  const { code, text } = why(e);
  return new PkgError(FetchErrorCodes.CACHE_WRITE_FAILED, `cannot write ${what} at ${path}: ${text}`, {
    hint:
      code === 'ENOSPC' || code === 'EDQUOT'
        ? 'free some disk space, or run "enpkg cache clean"'
        : 'cache_dir in the configuration (default ~/.cache/enpkg) must be a directory you can write; ' +
          'fix its permissions or point it elsewhere',
    cause: e,
    details: { path, code },
  });
}

/** A file of the cache exists but cannot be read. */
export function cacheReadFailed(path: string, e: unknown, what = 'the index cache'): PkgError {
  const { code, text } = why(e);
  return new PkgError(FetchErrorCodes.CACHE_READ_FAILED, `cannot read ${what} at ${path}: ${text}`, {
    hint: 'fix the permissions of cache_dir (default ~/.cache/enpkg), or empty it with "enpkg cache clean"',
    cause: e,
    details: { path, code },
  });
}
