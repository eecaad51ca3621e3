/**
 * Reading files that come from outside (repository indexes and eggs, configuration, keys, secrets)
 * only when they are regular files. The open is non-blocking, so a FIFO (or a device) never makes it
 * hang, and the fstat after it sees the file that was opened, not one swapped in after a stat. What
 * is not a regular file fails with the code `EFTYPE`, which callers turn into their own PkgError.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** The error code of "not a regular file" (BSD's errno for an inappropriate file type). */
export const NOT_REGULAR = 'EFTYPE';

const FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function notRegular(path: string, st: Stats): NodeJS.ErrnoException {
  const kind = st.isDirectory() ? 'a directory' : st.isFIFO() ? 'a FIFO' : st.isSocket() ? 'a socket' : 'a device';
  return Object.assign(new Error(`${path} is ${kind}, not a regular file`), { code: NOT_REGULAR, path });
}

/** A short reason for an fs error, for messages: the errno code, or "not a regular file". */
export function readFailure(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === NOT_REGULAR) return 'not a regular file';
  return err?.code ?? (err as Error)?.message ?? String(e);
}

/** Open a regular file for reading; the caller closes the descriptor. */
export function openRegularSync(path: string): { fd: number; stats: Stats } {
  const fd = openSync(path, FLAGS);
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegular(path, stats);
    return { fd, stats };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/** The same, as a FileHandle. */
export async function openRegular(path: string): Promise<{ fh: FileHandle; stats: Stats }> {
  const fh = await open(path, FLAGS);
  try {
    const stats = await fh.stat();
    if (!stats.isFile()) throw notRegular(path, stats);
    return { fh, stats };
  } catch (e) {
    await fh.close().catch(() => {});
    throw e;
  }
}

/**
 * The whole content of a regular file. With `max`, a larger file is not read: `tooLarge` is called
 * with its size (and must throw).
 */
export function readRegularFileSync(path: string, max?: number, tooLarge?: (size: number) => never): Buffer {
  const { fd, stats } = openRegularSync(path);
  try {
    if (max !== undefined && stats.size > max) {
      if (tooLarge) tooLarge(stats.size);
      throw Object.assign(new Error(`${path} is ${stats.size} bytes, more than ${max}`), { code: 'EFBIG', path });
    }
    const buf = Buffer.allocUnsafe(stats.size);
    let off = 0;
    while (off < stats.size) {
      const n = readSync(fd, buf, off, stats.size - off, off);
      if (n === 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}
