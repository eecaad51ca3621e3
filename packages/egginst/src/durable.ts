/**
 * Durability: data must be on disk before the journal says it is there. One syncfs(2) of the
 * prefix's filesystem (`sync -f`) replaces thousands of per-file fsyncs; where it is unavailable,
 * each file is fsynced. And the project's one atomic, durable file replacement (`writeFileDurably`)
 * with its one directory fsync (`fsyncDir`), used by egginst's journal and by enpkg alike.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

let syncfsWorks: boolean | undefined;

/** Flush everything written to the filesystem holding `path`. Falls back to fsyncing `files`. */
export function flushFilesystem(path: string, files: () => Iterable<string>): void {
  if (syncfsWorks !== false) {
    const r = spawnSync('sync', ['-f', path], { stdio: 'ignore' });
    syncfsWorks = r.status === 0;
    if (syncfsWorks) return;
  }
  for (const f of files()) {
    // Directories are opened read-only too; fsync on them is what makes renames durable.
    const fd = openSync(f, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

export interface WriteDurablyOptions {
  /** The new file's mode (default 0o644). */
  readonly mode?: number;
  /** fsync the file and its directory (default true); false still replaces by rename, atomically. */
  readonly durable?: boolean;
  /** The temporary file (default `<path>.tmp-<pid>-<hex>`, in the same directory, so the rename is atomic). */
  readonly tmp?: string;
  /** Runs after the data is written and before the rename (a crash point, say). */
  readonly beforeRename?: () => void;
}

/**
 * Replace `path` whole: write a temporary file beside it, fsync it, rename it over `path`, fsync the
 * directory. Readers see the old content or the new, never a mix; after it returns (durable), a power
 * cut keeps the new content. A failure removes the temporary file and throws the fs error as it is.
 */
export function writeFileDurably(path: string, data: Uint8Array | string, opts: WriteDurablyOptions = {}): void {
  const durable = opts.durable ?? true;
  const tmp = opts.tmp ?? `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    const fd = openSync(tmp, 'w', opts.mode ?? 0o644);
    try {
      const buf = typeof data === 'string' ? Buffer.from(data) : data;
      let off = 0;
      while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
      if (durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    opts.beforeRename?.();
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
  if (durable) fsyncDir(dirname(path));
}

/** What a filesystem answers when it cannot fsync a directory at all (not a failure of this one). */
const FSYNC_UNSUPPORTED = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP', 'EISDIR', ...(process.platform === 'win32' ? ['EPERM'] : [])]);

/**
 * fsync a directory, which is what makes a rename in it durable. The one policy: a filesystem that
 * does not support it (EINVAL, ENOTSUP, EISDIR; EPERM on Windows) is accepted as best effort; every
 * other error (EIO, EACCES, ENOENT...) is thrown, because the rename may then not survive a power cut.
 */
export function fsyncDir(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch (e) {
    if (FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    fsyncSync(fd);
  } catch (e) {
    if (!FSYNC_UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    closeSync(fd);
  }
}
