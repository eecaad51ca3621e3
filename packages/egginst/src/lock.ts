/**
 * The prefix lock: `flock(LOCK_EX | LOCK_NB)` on `<prefix>/.egginst/lock`, a mode-0600 file opened for
 * reading and writing (fs-ext's flock; Node has none of its own).
 *
 * * The kernel drops a flock when the last descriptor of its open file goes, however the holder dies
 *   (kill -9 included), so there is no stale-lock cleanup. Node opens files close-on-exec, so egg
 *   scripts do not inherit it.
 * * Only someone who can write the prefix can take it: the file lives in the prefix, is opened for
 *   writing, and is mode 0600 so that nobody else can open it at all (a flock needs only a descriptor,
 *   even a read-only one).
 * * The holder writes its pid and command into the file; a process that finds it locked reads that
 *   (at most 4 KiB, raw: renderers escape it) and says who holds the prefix.
 * * The holder deletes the file (and `.egginst/` if empty) before it lets go, so a prefix at rest has
 *   neither. A taker therefore checks, once locked, that its file is still the one at the path
 *   (not unlinked or replaced meanwhile), and starts again if not.
 */
import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  rmdirSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import fsExt from 'fs-ext';
import { asPkgError, ErrorCodes, PkgError } from './errors.js';
import { INTERNAL_DIR } from './paths.js';

export interface PrefixLock {
  prefix: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Wait for the holder to finish instead of failing. */
  wait?: boolean;
  /** Called once when waiting starts, with the holder's description. */
  onWait?: (holder: string) => void;
  /** What this process is doing, told to whoever waits for it. */
  command?: string;
}

/** Most of the lock file that is read: it is written by another process. */
const HOLDER_READ_CAP = 4096;
/** Most of a command that is written, in UTF-16 units: six bytes each when JSON-escaped, within the cap. */
const COMMAND_CAP = 600;

/** Where the lock of a prefix lives. */
export function lockFilePath(prefix: string): string {
  return join(prefix, INTERNAL_DIR, 'lock');
}

type Attempt = { fd: number; ino: number } | { holder: string } | 'again';

function cannotWrite(prefix: string, path: string, e: unknown): PkgError {
  const err = e as NodeJS.ErrnoException;
  const denied = err.code === 'EACCES' || err.code === 'EPERM' || err.code === 'EROFS';
  const missing = err.code === 'ENOENT' || err.code === 'ENOTDIR';
  const why = denied ? 'you cannot write the prefix' : missing ? 'the prefix is not an existing directory' : 'the lock file is unusable';
  return new PkgError(ErrorCodes.PREFIX_INVALID, `cannot lock the prefix ${prefix}: ${why} (opening ${path}: ${err.message})`, {
    hint: denied
      ? 'only a user who can write the prefix can change it: run as its owner, or check the permissions of its .egginst directory'
      : 'check the prefix path',
    cause: e,
    details: { prefix, path },
  });
}

function open(prefix: string, path: string): number | 'again' {
  try {
    mkdirSync(join(prefix, INTERNAL_DIR), 0o755);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw cannotWrite(prefix, path, e);
  }
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
  } catch (e) {
    // A releasing holder removed .egginst/ between our mkdir and our open.
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'again';
    throw cannotWrite(prefix, path, e);
  }
  if (fstatSync(fd).isFile()) return fd;
  closeSync(fd);
  throw new PkgError(ErrorCodes.PREFIX_INVALID, `cannot lock the prefix ${prefix}: ${path} is not a regular file`, {
    hint: `remove ${path}: egginst creates it`,
    details: { prefix, path },
  });
}

/** The inode of `fd` if it is still the file at `path` (not unlinked or replaced by a releasing holder). */
function inodeAtPath(fd: number, path: string): number | null {
  const st = fstatSync(fd);
  if (st.nlink === 0) return null;
  try {
    return lstatSync(path).ino === st.ino ? st.ino : null;
  } catch {
    return null;
  }
}

/** The holder's description from its lock file, or null while it has not written it yet. */
function readHolder(fd: number): string | null {
  const buf = Buffer.alloc(HOLDER_READ_CAP);
  const n = readSync(fd, buf, 0, buf.length, 0);
  try {
    const info = JSON.parse(buf.subarray(0, n).toString('utf8')) as { pid?: unknown; command?: unknown };
    if (!Number.isSafeInteger(info.pid) || (info.pid as number) <= 0) return null;
    const command = typeof info.command === 'string' && info.command ? ` (${info.command})` : '';
    return `pid ${info.pid}${command}`;
  } catch {
    return null;
  }
}

function tryLock(prefix: string, path: string): Attempt {
  const fd = open(prefix, path);
  if (fd === 'again') return 'again';
  try {
    fsExt.flockSync(fd, 'exnb');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EAGAIN' && code !== 'EWOULDBLOCK') {
      closeSync(fd);
      throw asPkgError(e, `locking the prefix ${prefix} (${path})`);
    }
    try {
      // The holder may be on its way out (it unlinks first): then try again at once.
      if (fstatSync(fd).nlink === 0) return 'again';
      return { holder: readHolder(fd) ?? '' };
    } finally {
      closeSync(fd);
    }
  }
  const ino = inodeAtPath(fd, path);
  if (ino === null) {
    closeSync(fd);
    return 'again';
  }
  return { fd, ino };
}

function writeHolder(fd: number, command: string | undefined): void {
  try {
    // A file left by a holder that was killed may be any mode its creator chose.
    fchmodSync(fd, 0o600);
  } catch {
    // not ours to change (a file of another user we may write): it stays as it is
  }
  const info = { pid: process.pid, ...(command ? { command: command.slice(0, COMMAND_CAP) } : {}) };
  ftruncateSync(fd, 0);
  try {
    writeSync(fd, `${JSON.stringify(info)}\n`, 0);
  } catch (e) {
    // The lock is held either way; on a full disk a waiting process is told "another process".
    if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
  }
}

function releaser(prefix: string, path: string, fd: number, ino: number): () => Promise<void> {
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    try {
      // Unlinked while still held: whoever has it open finds it gone once it gets the lock, and retries.
      if (lstatSync(path).ino === ino) unlinkSync(path);
      rmdirSync(join(prefix, INTERNAL_DIR));
    } catch {
      // .egginst/ holds more (a transaction, a kept payload), or the file was already gone
    } finally {
      closeSync(fd);
    }
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function lockPrefix(prefix: string, opts: LockOptions = {}): Promise<PrefixLock> {
  const path = lockFilePath(prefix);
  let told = false;
  let unwritten = 0;
  let races = 0;
  for (let polls = 0; ; ) {
    const got = tryLock(prefix, path);
    if (got === 'again') {
      // Each race is lost to a holder that let go meanwhile: a few in a row, not an endless run.
      if (++races > 1000) throw new PkgError(ErrorCodes.IO, `locking the prefix ${prefix}: ${path} keeps being replaced`);
      continue;
    }
    if ('fd' in got) {
      try {
        writeHolder(got.fd, opts.command);
      } catch (e) {
        closeSync(got.fd);
        throw asPkgError(e, `writing the lock file ${path}`);
      }
      return { prefix, release: releaser(prefix, path, got.fd, got.ino) };
    }
    // Between its flock and its write the holder's file is empty: give it a moment to say who it is.
    if (!got.holder && unwritten++ < 10) {
      await sleep(10);
      continue;
    }
    const holder = got.holder || 'another process';
    if (!opts.wait) {
      throw new PkgError(ErrorCodes.PREFIX_LOCKED, `the prefix ${prefix} is locked by ${holder}`, {
        hint: 'wait for it to finish, or run again with --wait',
        details: { prefix, holder },
      });
    }
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    await sleep(Math.min(50 * 2 ** Math.min(polls++, 4), 500));
  }
}
