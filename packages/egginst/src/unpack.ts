/**
 * Unpack one subtree of a validated archive into a new directory, outside any package record: how
 * enpkg puts a version of itself beside the running one. The archive has passed every structural
 * check of openArchive; sizes and CRCs are checked while extracting. Links are refused (a program's
 * own tree has no need of them), and the destination must not exist: a half-written tree is never
 * mistaken for a whole one, because the caller renames it into place only when this returns.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Archive } from './archive.js';
import { ErrorCodes, PkgError } from './errors.js';
import { extractLarge, extractSmallSync, isSmall } from './extract.js';

export interface UnpackResult {
  /** Every regular file written, relative to the destination, with its sha256. */
  digests: Map<string, string>;
}

/**
 * Write every entry under `from` (an archive directory such as `enpkg/`) into `dest`, which is
 * created. Modes come from the archive (0644, or 0755 for entries with an execute bit).
 */
export async function unpackTree(archive: Archive, from: string, dest: string, opts: { onFile?: () => void } = {}): Promise<UnpackResult> {
  const root = from.endsWith('/') ? from : `${from}/`;
  const entries = archive.entries.filter((e) => e.name.startsWith(root) && e.name.length > root.length);
  if (!entries.some((e) => e.kind === 'file')) {
    throw new PkgError(ErrorCodes.ARCHIVE_EMPTY, `${archive.fileName} has no files under ${root}`, { hint: 'build the egg again' });
  }
  mkdirSync(dest);
  const digests = new Map<string, string>();
  for (const e of entries) {
    const rel = e.name.slice(root.length).replace(/\/$/, '');
    const target = join(dest, rel);
    if (e.kind === 'link') {
      throw new PkgError(
        ErrorCodes.ARCHIVE_UNSUPPORTED,
        `${archive.fileName}: entry ${e.name} is a symbolic link, which this tree may not hold`,
        {
          hint: 'build the egg again',
        },
      );
    }
    if (e.kind === 'dir') {
      mkdirSync(target, { recursive: true });
      continue;
    }
    mkdirSync(join(target, '..'), { recursive: true });
    const mode = e.mode & 0o111 ? 0o755 : 0o644;
    const done = isSmall(e)
      ? extractSmallSync(archive.fd, archive.fileName, e, target, mode)
      : await extractLarge(archive.fd, archive.fileName, e, target, mode);
    digests.set(rel, done.sha256);
    opts.onFile?.();
  }
  return { digests };
}
