/**
 * Durability: data must be on disk before the journal says it is there. One syncfs(2) of the
 * prefix's filesystem (`sync -f`) replaces thousands of per-file fsyncs; where it is unavailable,
 * each file is fsynced.
 */
import { spawnSync } from 'node:child_process';
import { closeSync, fsyncSync, openSync } from 'node:fs';

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
