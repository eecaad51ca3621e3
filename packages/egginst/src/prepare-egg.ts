/**
 * One egg made ready for planning: the archive opened and validated, its metadata read, its layout
 * (where each entry goes) computed. Nothing is written.
 */
import { type ArchiveListing, openArchive } from './archive.js';
import { computeLayout, type KeptLayout, keepLayout, type LayoutContext, restoreLayout } from './layout.js';
import { readMetadata } from './metadata.js';
import type { PreparedEgg } from './plan.js';
import type { Python } from './python.js';
import type { Limits, Warning } from './types.js';

export interface PrepareEggInput {
  eggPath: string;
  /** The file name that gives the egg its identity. */
  eggName: string;
  limits: Limits;
  python: Python;
  warn: (w: Warning) => void;
  /** What validating this archive found before (the package store keeps it): see openArchive. */
  listing?: ArchiveListing;
  /** The layout kept for this archive with its listing: used when it holds (restoreLayout), else computed. */
  layout?: KeptLayout;
}

/** The archive stays open (staging reads it); it is closed here only on failure. */
export async function prepareEgg(input: PrepareEggInput): Promise<PreparedEgg> {
  const { eggPath, eggName, python } = input;
  const archive = await openArchive(eggPath, input.limits, input.listing);
  try {
    const warnings: Warning[] = [];
    const meta = readMetadata(archive, eggName, warnings);
    const pyVersion = meta.spec.python ?? null;
    const pythonPath = (): string => python.path(pyVersion);
    // What the layout asks of the interpreter is noted, for the store to keep it with (keepLayout).
    const context: LayoutContext = { eggName };
    const asked = {
      pythonVersion: (): string => (context.pythonVersion ??= pyVersion ?? python.version()),
      pythonPath: (): string => (context.pythonPath ??= pythonPath()),
    };
    const now = { id: meta.id, eggName, entries: archive.entries, ...asked };
    const restored = input.layout ? restoreLayout(input.layout, now) : null;
    if (restored) Object.assign(context, input.layout!.context);
    const layout =
      restored ??
      computeLayout({
        ...now,
        python: pyVersion,
        ...optional('summary', meta.summary),
        ...optional('filesToInstall', archive.readText('EGG-INFO/inst/files_to_install.txt')),
        ...optional('entryPoints', archive.readText('EGG-INFO/entry_points.txt')),
        ...optional('targetsDat', archive.readText('EGG-INFO/inst/targets.dat')),
      });
    for (const w of [...warnings, ...layout.warnings]) input.warn(w);
    return { eggPath, archive, meta, layout, python: pythonPath, keptLayout: () => keepLayout(layout, archive.entries, context) };
  } catch (e) {
    archive.close();
    throw e;
  }
}

function optional<K extends string>(key: K, value: string | undefined): { [P in K]?: string } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: string };
}
