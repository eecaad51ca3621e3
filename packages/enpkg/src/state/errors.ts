/**
 * How the state database fails: every error leaves the state module as a PkgError naming state.db
 * and saying what to do.
 */
import { dirname } from 'node:path';
import { type ErrorCode, ErrorCodes } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';

export const BACKUP_HINT = (path: string): string =>
  `restore ${path} from a backup (a state.db.bak-* beside it, if there is one), or move it aside and run enpkg again: ` +
  'it then records the prefix as it finds it, with a new history';

/** A row that does not read back as what enpkg wrote. */
export function corruptRow(path: string, table: string, subject: string, why: string): PkgError {
  return new PkgError(EnpkgErrorCodes.STATE_CORRUPT, `the state database ${path} is damaged: table ${table}, ${subject}: ${why}`, {
    hint: BACKUP_HINT(path),
    details: { path, table, subject },
  });
}

const SQLITE_HINTS = {
  readonly: (path: string): string =>
    `enpkg must be able to write ${dirname(path)} and the files in it (state.db, state.db-wal, state.db-shm): ` +
    'check their owner and permissions (or the file system), or run enpkg as the user who owns the prefix',
  busy: 'another program (a sqlite3 shell, a backup tool) holds the database: let it finish, then run the command again',
};

/**
 * Any failure of the state database as a PkgError naming the file: read-only (STATE_READONLY), locked
 * (STATE_BUSY), full (NO_SPACE), damaged (STATE_CORRUPT), not openable (STATE_UNREADABLE), else IO.
 */
export function stateError(e: unknown, path: string, doing: string): PkgError {
  if (e instanceof PkgError) return e;
  const code = String((e as { code?: unknown } | null)?.code ?? '');
  const message = e instanceof Error ? e.message : String(e);
  const details = { path, code };
  const fail = (c: ErrorCode, text: string, hint: string): PkgError => new PkgError(c, text, { hint, cause: e, details });
  if (code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM' || code === 'SQLITE_AUTH' || ['EACCES', 'EPERM', 'EROFS'].includes(code))
    return fail(
      EnpkgErrorCodes.STATE_READONLY,
      `cannot write the state database ${path} while ${doing}: ${message}`,
      SQLITE_HINTS.readonly(path),
    );
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED'))
    return fail(EnpkgErrorCodes.STATE_BUSY, `the state database ${path} is locked by another program (${message})`, SQLITE_HINTS.busy);
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT')
    return fail(
      ErrorCodes.NO_SPACE,
      `no space left on device for the state database ${path} while ${doing}`,
      'free some space and run the command again',
    );
  if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB')
    return fail(EnpkgErrorCodes.STATE_CORRUPT, `the state database ${path} is damaged (${message})`, BACKUP_HINT(path));
  if (code.startsWith('SQLITE_CANTOPEN') || code === 'ENOTDIR')
    return fail(
      EnpkgErrorCodes.STATE_UNREADABLE,
      `cannot open the state database ${path}: ${message}`,
      `check that ${dirname(path)} is a directory enpkg can read and write; if the file is damaged, ${BACKUP_HINT(path)}`,
    );
  return fail(
    ErrorCodes.IO,
    `the state database ${path} failed while ${doing}: ${code ? `${code}: ` : ''}${message}`,
    'run the command again; if it persists, check the disk',
  );
}
