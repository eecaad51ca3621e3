/**
 * The egg cache: content-addressed files in the user's cache directory.
 *
 *   <cacheDir>/eggs/<sha256[0:2]>/<sha256>.egg            an egg, named by its sha256
 *   <cacheDir>/eggs/<sha256[0:2]>/<sha256>.egg.verified   the stamp: this code verified that file
 *   <cacheDir>/eggs/md5/<md5[0:2]>/<md5>.egg (+ stamp)    an egg of a legacy (md5-only) index entry
 *   ...<name>.egg.<pid>-<random>.partial                 a file being written (never read as an egg)
 *
 * The rule for trusting a cached file. A new file is written as a `.partial`, hashed as it is
 * written, and renamed to its final name only when its size and hash match; right after the rename
 * the stamp records the file's identity (inode, size, mtime and ctime in nanoseconds). A cached file
 * is then used without reading it when it is a regular file (not a link), its size is the index's,
 * and its identity still equals the stamp's: any write, truncation, `touch`, copy or replacement
 * changes the ctime or the inode. Otherwise (no stamp, another identity: a cache copied from
 * elsewhere, restored from a backup, or changed) it is hashed once more; if it matches it gets a new
 * stamp, if not it is removed (with a warning) and fetched again. Several index entries, names or
 * repositories with the same content share one file. egginst validates every archive again when it
 * installs it (structure, CRC-32 of every entry).
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { closeSync, lstatSync, readSync, rmSync, type BigIntStats } from 'node:fs';
import { lstat, mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { writeFileDurably } from 'egginst/core';
import type { DownloadSink } from '../http/client.js';
import { NOT_REGULAR, openRegular, openRegularSync, readRegularFileSync } from '../readfile.js';
import { cacheReadFailed, cacheWriteFailed, hashMismatch, sizeMismatch, type EggSubject } from './errors.js';

export const EGGS_DIR = 'eggs';
export const STAMP_SUFFIX = '.verified';
export const PARTIAL_SUFFIX = '.partial';

/** What names an egg's content: its sha256, or (legacy index entries only) its md5. */
export interface Address {
  readonly algorithm: 'sha256' | 'md5';
  readonly digest: string;
}

/** What the bytes must be. */
export interface Expected {
  readonly size: number;
  readonly sha256: string | null;
  readonly md5: string | null;
}

/** A verified file in the cache. */
export interface Stored {
  readonly path: string;
  readonly sha256: string;
  readonly size: number;
}

export function addressOf(expected: Expected): Address | null {
  if (expected.sha256 !== null) return { algorithm: 'sha256', digest: expected.sha256 };
  if (expected.md5 !== null) return { algorithm: 'md5', digest: expected.md5 };
  return null;
}

/** The final path of an egg with this address (the address must be validated lower-case hex). */
export function eggPath(cacheDir: string, a: Address): string {
  const base = a.algorithm === 'sha256' ? join(cacheDir, EGGS_DIR) : join(cacheDir, EGGS_DIR, 'md5');
  return join(base, a.digest.slice(0, 2), `${a.digest}.egg`);
}

interface Stamp {
  readonly v: 1;
  readonly sha256: string;
  readonly md5: string | null;
  readonly size: number;
  readonly ino: string;
  readonly mtimeNs: string;
  readonly ctimeNs: string;
}

const identity = (st: BigIntStats) => ({
  size: Number(st.size),
  ino: String(st.ino),
  mtimeNs: String(st.mtimeNs),
  ctimeNs: String(st.ctimeNs),
});

function lstatOrNull(path: string): BigIntStats | null {
  try {
    return lstatSync(path, { bigint: true });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw cacheReadFailed(path, e, 'the egg cache');
  }
}

/** Remove a cached egg and its stamp (one that is damaged or does not match). */
function dropSync(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
    rmSync(path + STAMP_SUFFIX, { force: true });
  } catch (e) {
    throw cacheWriteFailed(path, e);
  }
}

/** The same, from async code. */
async function drop(path: string): Promise<void> {
  try {
    await rm(path, { force: true });
    await rm(path + STAMP_SUFFIX, { force: true });
  } catch (e) {
    throw cacheWriteFailed(path, e);
  }
}

/** Write a stamp. No fsync: a torn or lost stamp only costs one more hash of the egg. */
function putStamp(path: string, stamp: Stamp): void {
  const tmp = `${path}${STAMP_SUFFIX}.${process.pid}-${randomBytes(4).toString('hex')}.tmp`;
  writeFileDurably(path + STAMP_SUFFIX, JSON.stringify(stamp), { durable: false, tmp });
}

function readStamp(path: string): Stamp | null {
  try {
    const s = JSON.parse(readRegularFileSync(path + STAMP_SUFFIX).toString('utf8')) as Stamp;
    return s && s.v === 1 && typeof s.sha256 === 'string' ? s : null;
  } catch {
    return null;
  }
}

export type Probe =
  /** Verified earlier and unchanged since: use it as it is. */
  | { readonly kind: 'hit'; readonly stored: Stored }
  /** A file of the right size that this code has not verified in this form: hash it before use. */
  | { readonly kind: 'unverified'; readonly path: string }
  /** Nothing usable (something unusable was removed: `removed` says why). */
  | { readonly kind: 'miss'; readonly path: string; readonly removed: string | null };

/** Look an egg up in the cache, without reading its content. */
export function probe(cacheDir: string, a: Address, size: number | null): Probe {
  const path = eggPath(cacheDir, a);
  const st = lstatOrNull(path);
  if (st === null) return { kind: 'miss', path, removed: null };
  const dropped = (why: string): Probe => {
    dropSync(path);
    return { kind: 'miss', path, removed: why };
  };
  if (!st.isFile()) return dropped('it was not a regular file');
  if (size !== null && Number(st.size) !== size) return dropped(`it had ${st.size} bytes instead of ${size}`);
  const stamp = readStamp(path);
  const id = identity(st);
  if (
    stamp &&
    (a.algorithm === 'sha256' ? stamp.sha256 === a.digest : stamp.md5 === a.digest) &&
    stamp.size === id.size &&
    stamp.ino === id.ino &&
    stamp.mtimeNs === id.mtimeNs &&
    stamp.ctimeNs === id.ctimeNs
  ) {
    return { kind: 'hit', stored: { path, sha256: stamp.sha256, size: id.size } };
  }
  return { kind: 'unverified', path };
}

/** Record that `path` (just renamed into place, or just re-hashed) holds these bytes. */
async function writeStamp(path: string, digests: { sha256: string; md5: string | null }): Promise<void> {
  const st = await lstat(path, { bigint: true });
  putStamp(path, { v: 1, sha256: digests.sha256, md5: digests.md5, ...identity(st) });
}

class Digests {
  private readonly sha = createHash('sha256');
  private readonly md5: Hash | null;
  size = 0;
  constructor(withMd5: boolean) {
    this.md5 = withMd5 ? createHash('md5') : null;
  }
  update(chunk: Buffer): void {
    this.sha.update(chunk);
    this.md5?.update(chunk);
    this.size += chunk.length;
  }
  digest(): { sha256: string; md5: string | null } {
    return { sha256: this.sha.digest('hex'), md5: this.md5?.digest('hex') ?? null };
  }
}

/** The first mismatch between what was read and what was expected, as the error to throw. */
function check(subject: EggSubject, expected: Expected, size: number, d: { sha256: string; md5: string | null }): Error | null {
  if (size !== expected.size) return sizeMismatch(subject, expected.size, size);
  if (expected.sha256 !== null && d.sha256 !== expected.sha256) return hashMismatch(subject, 'sha256', expected.sha256, d.sha256);
  if (expected.sha256 === null && expected.md5 !== null && d.md5 !== expected.md5)
    return hashMismatch(subject, 'md5', expected.md5, d.md5 ?? '');
  return null;
}

/**
 * Hash a cached file that is not stamped (or whose stamp no longer matches). Returns the stored egg
 * (stamped), or null after removing a file that does not match.
 */
export async function reverify(
  path: string,
  expected: Expected,
  onBytes: (n: number) => void,
  signal?: AbortSignal,
): Promise<Stored | null> {
  const d = new Digests(expected.sha256 === null);
  let fh: FileHandle;
  try {
    fh = (await openRegular(path)).fh;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    if ((e as NodeJS.ErrnoException).code === NOT_REGULAR) {
      await drop(path);
      return null;
    }
    throw cacheReadFailed(path, e, 'the egg cache');
  }
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      signal?.throwIfAborted();
      let bytesRead: number;
      try {
        bytesRead = (await fh.read(buf, 0, buf.length, null)).bytesRead;
      } catch (e) {
        throw cacheReadFailed(path, e, 'the egg cache');
      }
      if (bytesRead === 0) break;
      d.update(buf.subarray(0, bytesRead));
      onBytes(bytesRead);
    }
  } finally {
    await fh.close();
  }
  const digests = d.digest();
  if (check({ eggName: '', repository: '', shown: path }, expected, d.size, digests) !== null) {
    await drop(path);
    return null;
  }
  await writeStamp(path, digests);
  return { path, sha256: digests.sha256, size: d.size };
}

/** The same, synchronously, for a caller that has only a sha256 (`cachedEgg`). */
function reverifySync(path: string, sha256: string): boolean {
  const d = new Digests(false);
  let fd: number;
  try {
    fd = openRegularSync(path).fd;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === NOT_REGULAR) return false;
    throw cacheReadFailed(path, e, 'the egg cache');
  }
  try {
    const buf = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const n = readSync(fd, buf, 0, buf.length, null);
      if (n === 0) break;
      d.update(buf.subarray(0, n));
    }
  } catch (e) {
    throw cacheReadFailed(path, e, 'the egg cache');
  } finally {
    closeSync(fd);
  }
  if (d.digest().sha256 !== sha256) return false;
  try {
    putStamp(path, { v: 1, sha256, md5: null, ...identity(lstatSync(path, { bigint: true })) });
  } catch {
    // Without a stamp the egg is hashed again next time.
  }
  return true;
}

/**
 * The cached egg with this sha256, or null. A file that is not stamped is hashed first (and removed
 * if it does not match): the same rule as `fetchEggs`.
 */
export function cachedEgg(cacheDir: string, sha256: string, size: number | null = null): string | null {
  if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
  const p = probe(cacheDir, { algorithm: 'sha256', digest: sha256 }, size);
  if (p.kind === 'hit') return p.stored.path;
  if (p.kind === 'miss') return null;
  if (reverifySync(p.path, sha256)) return p.path;
  dropSync(p.path);
  return null;
}

export interface PartialOptions {
  readonly path: string;
  readonly expected: Expected;
  readonly subject: EggSubject;
  readonly fsync: boolean;
  /** Called with each chunk's length as it is written. */
  readonly onBytes: (n: number) => void;
}

/**
 * A sink that writes `<path>.<pid>-<random>.partial`, hashing as it writes, refusing more bytes than
 * expected; `finish` checks size and hash, then (fsync and) renames it to `path` and stamps it. Any
 * failure removes the partial file: the cache is then exactly as before.
 */
export async function openPartial(opts: PartialOptions): Promise<DownloadSink<Stored>> {
  const { path, expected, subject } = opts;
  const partial = `${path}.${process.pid}-${randomBytes(6).toString('hex')}${PARTIAL_SUFFIX}`;
  try {
    await mkdir(dirname(path), { recursive: true });
  } catch (e) {
    throw cacheWriteFailed(dirname(path), e);
  }
  let fh: FileHandle;
  try {
    fh = await open(partial, 'wx', 0o644);
  } catch (e) {
    throw cacheWriteFailed(partial, e);
  }
  const d = new Digests(expected.sha256 === null);
  let closed = false;
  const discard = async (): Promise<void> => {
    if (!closed) {
      closed = true;
      await fh.close().catch(() => {});
    }
    await rm(partial, { force: true }).catch(() => {});
  };
  return {
    async write(chunk) {
      if (d.size + chunk.length > expected.size) throw sizeMismatch(subject, expected.size, `more than ${expected.size} bytes`);
      d.update(chunk);
      try {
        let off = 0;
        while (off < chunk.length) off += (await fh.write(chunk, off, chunk.length - off)).bytesWritten;
      } catch (e) {
        throw cacheWriteFailed(partial, e);
      }
      opts.onBytes(chunk.length);
    },
    async finish() {
      const digests = d.digest();
      const bad = check(subject, expected, d.size, digests);
      if (bad) {
        await discard();
        throw bad;
      }
      try {
        if (opts.fsync) await fh.datasync();
        closed = true;
        await fh.close();
        await rename(partial, path);
      } catch (e) {
        await discard();
        throw cacheWriteFailed(partial, e);
      }
      await writeStamp(path, digests).catch(() => {});
      return { path, sha256: digests.sha256, size: d.size };
    },
    abort: discard,
  };
}
