/**
 * Read an egg's metadata with every archive check applied, without installing it (enpkg's
 * `repo index` and its check that a downloaded egg is what the index says).
 */
import { basename } from 'node:path';
import { DEFAULT_LIMITS, openArchive } from './archive.js';
import { readMetadata } from './metadata.js';
import type { EggMetadata, Limits, Warning } from './types.js';

export async function inspectEgg(
  path: string,
  opts: { eggName?: string; limits?: Partial<Limits> } = {},
): Promise<EggMetadata & { warnings: Warning[]; entries: number; totalSize: number }> {
  const archive = await openArchive(path, { ...DEFAULT_LIMITS, ...opts.limits });
  try {
    const warnings: Warning[] = [];
    const meta = readMetadata(archive, opts.eggName ?? basename(path), warnings);
    return { ...meta, warnings, entries: archive.entries.length, totalSize: archive.totalSize };
  } finally {
    archive.close();
  }
}
