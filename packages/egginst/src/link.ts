/**
 * How a file of a store entry is put into a transaction's staging tree: cloned (a reflink: shared
 * blocks, copy on write), hard-linked (the same inode as the store's file), or copied. `auto` takes
 * the first that works for the store and the prefix, found on the first file.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scratchName } from './store.js';
import { ErrorCodes, PkgError } from './errors.js';
import { place, type PlaceMode } from './tree-ops.js';

export const LINK_MODES = ['auto', 'clone', 'hardlink', 'copy'] as const;
export type LinkMode = (typeof LINK_MODES)[number];
export type ResolvedLinkMode = PlaceMode;

/** `EGGINST_LINK_MODE` if it names a mode, else auto. */
export function defaultLinkMode(): LinkMode {
  const m = process.env.EGGINST_LINK_MODE;
  return (LINK_MODES as readonly string[]).includes(m ?? '') ? (m as LinkMode) : 'auto';
}

/** The errors that mean "this filesystem (pair) cannot do that", as opposed to a failure. */
const UNSUPPORTED = new Set(['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'EPERM', 'EMLINK', 'ENOTTY']);

export interface Linker {
  /** How a file is put in (the probed mode; a copy instead of a hard link for `noHardlink`). */
  how(noHardlink: boolean): ResolvedLinkMode;
  /** A failure of putting a file in by `how`: LINK_MODE_UNSUPPORTED where the filesystems cannot do it. */
  failure(e: unknown, how: ResolvedLinkMode): unknown;
  /** The mode decided by `probe` (which must come before any `how`). */
  readonly used: () => ResolvedLinkMode | undefined;
  /**
   * Decide the mode before any file is linked, with a scratch file in the store linked into
   * `scratchDir` (a directory beside the prefix's staging): auto's choice, or LINK_MODE_UNSUPPORTED
   * for a forced mode these filesystems cannot do.
   */
  probe(scratchDir: string): ResolvedLinkMode;
}

/** The mode of a file put in by `how` from a store file: a hard link keeps the store's (no write bits). */
export function linkedMode(how: ResolvedLinkMode, fileMode: number): number {
  return how === 'hardlink' ? fileMode & ~0o222 : fileMode;
}

export function createLinker(requested: LinkMode, where: { store: string; prefix: string }): Linker {
  let chosen: ResolvedLinkMode | undefined = requested === 'auto' ? undefined : requested;
  const unsupported = (mode: ResolvedLinkMode, e: unknown): PkgError =>
    new PkgError(
      ErrorCodes.LINK_MODE_UNSUPPORTED,
      `cannot ${mode === 'clone' ? 'clone (reflink)' : 'hard-link'} files from the store ${where.store} into ${where.prefix}: ${
        (e as NodeJS.ErrnoException).code ?? (e as Error).message
      }`,
      {
        hint: `use link_mode auto (or copy)${mode === 'hardlink' ? '; hard links need the store and the prefix on one filesystem' : ''}`,
        cause: e,
        details: { store: where.store, prefix: where.prefix, mode },
      },
    );
  return {
    used: () => chosen,
    probe(scratchDir) {
      const tag = scratchName('probe');
      const src = join(where.store, tag);
      const dest = join(scratchDir, tag);
      writeFileSync(src, 'probe\n', { mode: 0o444, flag: 'wx' });
      try {
        const modes = chosen === undefined ? (['clone', 'hardlink', 'copy'] as const) : [chosen];
        for (const mode of modes) {
          try {
            place(mode, src, dest, 0o444);
            chosen = mode;
            return mode;
          } catch (e) {
            if (mode === 'copy' || !UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '')) throw e;
            if (modes.length === 1) throw unsupported(mode, e);
          } finally {
            rmSync(dest, { force: true });
          }
        }
        return chosen!;
      } finally {
        rmSync(src, { force: true });
      }
    },
    how(noHardlink) {
      if (chosen === undefined) throw new PkgError(ErrorCodes.INTERNAL, 'files are linked from the store before the link mode is probed');
      return chosen === 'hardlink' && noHardlink ? 'copy' : chosen;
    },
    failure(e, how) {
      return how !== 'copy' && UNSUPPORTED.has((e as NodeJS.ErrnoException).code ?? '') ? unsupported(how, e) : e;
    },
  };
}
