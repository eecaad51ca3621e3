/**
 * Stage 2 (pure): where each archive entry goes, with which mode; the links of files_to_install.txt
 * and zip symlink entries; the scripts written from entry points. FORMATS.md section 2. No I/O.
 */
import type { ArchiveEntry } from './archive.js';
import { ErrorCodes, PkgError, WarningCodes } from './errors.js';
import { RESERVED_DIRS, ancestors, collisionKey, unsafeNameReason } from './paths.js';
import { shebangLines } from './shebang.js';
import type { EggId, Warning } from './types.js';

export type LayoutItem =
  | { kind: 'file'; dest: string; mode: number; entry: ArchiveEntry }
  | { kind: 'link'; dest: string; target: string; origin: string }
  | { kind: 'generated'; dest: string; mode: number; content: string; origin: string };

export interface ScriptRef {
  /** `python`: run with the configured interpreter; `exec`: an executable hook run directly. */
  kind: 'python' | 'exec';
  /** Prefix-relative path of the script once installed. */
  path: string;
}

export interface Layout {
  /** `EGG-INFO/<key>`: the package's meta dir. */
  metaDir: string;
  /** Prefix-relative path of the install record. */
  recordPath: string;
  items: LayoutItem[];
  postInstall?: ScriptRef;
  preUninstall?: ScriptRef;
  entryPoints: string[];
  /** Prefix-relative directories a `/PLACEHOLD` search path stands for: targets.dat's lines, then `lib`. */
  targets: string[];
  warnings: Warning[];
}

export interface LayoutInput {
  id: EggId;
  eggName: string;
  entries: ArchiveEntry[];
  /** X.Y for `lib/pythonX.Y/site-packages`; called only when an entry needs it. */
  pythonVersion: () => string;
  /** Interpreter for entry-point shebangs; called only when the egg has entry points. */
  pythonPath: () => string;
  filesToInstall?: string;
  entryPoints?: string;
  targetsDat?: string;
  /** The `python` key of the egg's spec (null: not Python-specific). */
  python: string | null;
  /** For the PKG-INFO written when the egg has none. */
  summary?: string;
}

export const RECORD_FILE = 'egginst.json';

/** Where an archive member goes (FORMATS.md: first matching rule wins); null when it is skipped. */
export function destinationOf(name: string, key: string, pythonVersion: () => string): string {
  const rest = (p: string): string | null => (name.startsWith(p) && name.length > p.length ? name.slice(p.length) : null);
  const r = rest('EGG-INFO/prefix/') ?? rest('EGG-INFO/usr/');
  if (r !== null) return r;
  const s = rest('EGG-INFO/scripts/');
  if (s !== null) return `bin/${s}`;
  const m = rest('EGG-INFO/');
  if (m !== null) return `EGG-INFO/${key}/${m}`;
  return `lib/python${pythonVersion()}/site-packages/${name}`;
}

/** Mode of an installed file: 0755 for programs and shared libraries (and any entry marked executable), else 0644. */
export function modeFor(name: string, zipMode: number): number {
  const base = name.slice(name.lastIndexOf('/') + 1);
  if (
    name.startsWith('EGG-INFO/usr/bin/') ||
    name.startsWith('EGG-INFO/scripts/') ||
    name.endsWith('.so') ||
    name.endsWith('.dylib') ||
    name.endsWith('.pyd') ||
    (name.startsWith('EGG-INFO/usr/lib/') && /^lib.*\.so/.test(base)) ||
    name === 'EGG-INFO/inst/post-install' ||
    name === 'EGG-INFO/inst/pre-uninstall' ||
    (zipMode & 0o111) !== 0
  ) {
    return 0o755;
  }
  return 0o644;
}

function unsafe(eggName: string, name: string, why: string): PkgError {
  return new PkgError(ErrorCodes.ARCHIVE_UNSAFE_PATH, `${eggName}: entry ${name} is refused: ${why}`, {
    hint: 'the archive is broken or hostile; nothing was installed',
    details: { file: eggName, entry: name },
  });
}

/** Why a package may not write `dest` (unsafe, egginst's or enpkg's own, another package's metadata), or null. */
function refusedDestination(dest: string, metaDir: string, recordPath: string): string | null {
  const reason = unsafeNameReason(dest);
  if (reason) return `its destination ${dest} is unsafe: ${reason}`;
  const top = dest.slice(0, (dest.indexOf('/') + 1 || dest.length + 1) - 1);
  if (RESERVED_DIRS.includes(top)) return `it would write into ${top}/, where egginst and enpkg keep their own state`;
  if (top === 'EGG-INFO' && !dest.startsWith(`${metaDir}/`)) return `it would write ${dest}, outside this package's own ${metaDir}/`;
  if (dest === recordPath) return `${recordPath} is the install record, written by egginst`;
  return null;
}

export function computeLayout(input: LayoutInput): Layout {
  const { id, eggName, entries } = input;
  const key = id.key;
  const metaDir = `EGG-INFO/${key}`;
  const recordPath = `${metaDir}/${RECORD_FILE}`;
  const warnings: Warning[] = [];
  const names = new Set(entries.map((e) => e.name));
  const byDest = new Map<string, LayoutItem>();
  const origin = new Map<string, string>();

  const add = (item: LayoutItem, from: string): void => {
    const dest = item.dest;
    const refused = refusedDestination(dest, metaDir, recordPath);
    if (refused) throw unsafe(eggName, from, refused);
    const k = collisionKey(dest);
    const prev = origin.get(k);
    if (prev !== undefined) {
      throw new PkgError(
        ErrorCodes.ARCHIVE_DUPLICATE_NAME,
        `${eggName}: entry ${from} and entry ${prev} would both be installed as ${dest}`,
        {
          hint: 'the archive is broken or hostile; nothing was installed',
          details: { file: eggName, entry: from, other: prev },
        },
      );
    }
    origin.set(k, from);
    byDest.set(k, item);
  };

  // files_to_install.txt links replace an entry at the same destination.
  const ftiLinks = new Map<string, { target: string; line: string }>();
  for (const [i, raw] of (input.filesToInstall ?? '').split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const parts = line.split(/\s+/);
    const where = `EGG-INFO/inst/files_to_install.txt line ${i + 1}`;
    if (parts.length !== 2)
      throw new PkgError(ErrorCodes.METADATA_INVALID, `${eggName}: ${where} must be "<archive name> <action>": ${line}`, {
        details: { file: eggName, entry: where },
      });
    const [arc, action] = parts as [string, string];
    const why = unsafeNameReason(arc);
    if (why) throw unsafe(eggName, arc, `(${where}) ${why}`);
    if (action === 'False') continue;
    if (action === 'PROXY' || /^[A-Za-z]:/.test(action) || action.includes('\\')) {
      warnings.push({
        code: WarningCodes.WINDOWS_ONLY,
        message: `${where}: ${line} is a Windows-only action and is ignored`,
        subject: eggName,
      });
      continue;
    }
    ftiLinks.set(arc, { target: action, line: `${arc} (${where})` });
  }

  for (const e of entries) {
    if (e.kind === 'dir' || e.name.startsWith('.unused')) continue;
    if (ftiLinks.has(e.name)) continue;
    const dot = e.name.lastIndexOf('.');
    const ext = dot > e.name.lastIndexOf('/') ? e.name.slice(dot) : '';
    if ((ext === '.py' || ext === '.pyc' || ext === '.pyo') && names.has(`${e.name.slice(0, dot)}.so`)) continue;
    const dest = destinationOf(e.name, key, input.pythonVersion);
    if (e.kind === 'link') add({ kind: 'link', dest, target: e.linkTarget!, origin: e.name }, e.name);
    else add({ kind: 'file', dest, mode: modeFor(e.name, e.mode), entry: e }, e.name);
  }
  for (const [arc, { target, line }] of ftiLinks) {
    add({ kind: 'link', dest: destinationOf(arc, key, input.pythonVersion), target, origin: line }, line);
  }

  for (const item of eggInfo(input)) add(item, item.kind === 'file' ? item.entry.name : item.origin);

  const entryPoints: string[] = [];
  for (const ep of parseEntryPoints(input.entryPoints ?? '', eggName)) {
    const dest = `bin/${ep.name}`;
    const call = ep.attr.includes('.') ? `_m.${ep.attr}` : ep.attr;
    const imp = ep.attr.includes('.') ? `import ${ep.module} as _m` : `from ${ep.module} import ${ep.attr}`;
    const content = `${shebangLines(input.pythonPath())}# This script was created by egginst when installing: ${eggName}
if __name__ == '__main__':
    import sys
    ${imp}
    sys.exit(${call}())
`;
    add(
      { kind: 'generated', dest, mode: 0o755, content, origin: `entry point ${ep.name}` },
      `EGG-INFO/entry_points.txt [${ep.section}] ${ep.name}`,
    );
    entryPoints.push(dest);
  }

  // Nothing may be written through a link the archive itself creates, and no path may be both a file and a directory.
  // byDest's keys are the destinations' collision keys, whose parents are their parents' keys.
  const items = [...byDest.values()];
  const dirs = new Set<string>();
  for (const k of byDest.keys())
    for (let i = k.lastIndexOf('/'); i > 0 && !dirs.has(k.slice(0, i)); i = k.lastIndexOf('/', i - 1)) dirs.add(k.slice(0, i));
  for (const [k, item] of byDest) {
    if (item.kind === 'link' && dirs.has(k)) {
      const child = items.find((o) => ancestors(o.dest).some((a) => collisionKey(a) === k))!;
      throw new PkgError(
        ErrorCodes.ARCHIVE_WRITE_THROUGH_LINK,
        `${eggName}: entry ${originOf(child)} would be written through the symlink ${item.dest} (from ${item.origin})`,
        {
          hint: 'the archive is broken or hostile; nothing was installed',
          details: { file: eggName, entry: originOf(child), link: item.dest },
        },
      );
    }
    if (item.kind !== 'link' && dirs.has(k)) {
      throw new PkgError(ErrorCodes.ARCHIVE_DUPLICATE_NAME, `${eggName}: ${item.dest} would be both a file and a directory`, {
        details: { file: eggName, entry: originOf(item) },
      });
    }
  }

  const script = (py: string, hook: string): ScriptRef | undefined => {
    const hookItem = byDest.get(collisionKey(`${metaDir}/${hook}`));
    if (hookItem && hookItem.kind === 'file') return { kind: 'exec', path: hookItem.dest };
    const pyItem = byDest.get(collisionKey(`${metaDir}/${py}`));
    if (pyItem && pyItem.kind === 'file') return { kind: 'python', path: pyItem.dest };
    return undefined;
  };
  const layout: Layout = { metaDir, recordPath, items, entryPoints, targets: parseTargets(input.targetsDat ?? '', eggName), warnings };
  const post = script('post_egginst.py', 'inst/post-install');
  const pre = script('pre_egguninst.py', 'inst/pre-uninstall');
  if (post) layout.postInstall = post;
  if (pre) layout.preUninstall = pre;
  return layout;
}

/** EGG-INFO parts that are not setuptools metadata. */
const NOT_EGG_INFO = /^EGG-INFO\/(usr|spec|prefix|inst|scripts)\/|^EGG-INFO\/(post_egginst|pre_egguninst)\.py$/;

/**
 * setuptools metadata, `<site-packages>/<name>-<version>-<build>.egg-info/`, for a Python egg (one
 * that names a python or installs into site-packages) that carries no `*.egg-info` of its own: its
 * EGG-INFO files but the Enstaller-only ones, and a PKG-INFO when it has none.
 */
function eggInfo(input: LayoutInput): LayoutItem[] {
  const { id, entries } = input;
  const inSitePackages = entries.filter((e) => e.kind !== 'dir' && !e.name.startsWith('EGG-INFO/') && !e.name.startsWith('.unused'));
  if (input.python === null && inSitePackages.length === 0) return [];
  if (inSitePackages.some((e) => /^[^/]+\.egg-info(\/|$)/.test(e.name))) return [];
  const dir = `lib/python${input.pythonVersion()}/site-packages/${id.name}-${id.version}-${id.build}.egg-info`;
  const items: LayoutItem[] = [];
  for (const e of entries) {
    if (e.kind !== 'file' || !e.name.startsWith('EGG-INFO/') || NOT_EGG_INFO.test(e.name)) continue;
    items.push({ kind: 'file', dest: `${dir}/${e.name.slice('EGG-INFO/'.length)}`, mode: 0o644, entry: e });
  }
  if (!entries.some((e) => e.name === 'EGG-INFO/PKG-INFO')) {
    const summary = input.summary ? `Summary: ${input.summary.replace(/[\r\n]+/g, ' ')}\n` : '';
    const content = `Metadata-Version: 1.1\nName: ${id.name}\nVersion: ${id.version}\n${summary}`;
    items.push({ kind: 'generated', dest: `${dir}/PKG-INFO`, mode: 0o644, content, origin: 'PKG-INFO written by egginst' });
  }
  return items;
}

/** targets.dat: one prefix-relative directory a line; `lib` is always searched last. */
function parseTargets(text: string, eggName: string): string[] {
  const targets: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim().replace(/\/+$/, '');
    if (line === '' || line.startsWith('#')) continue;
    const why = unsafeNameReason(line);
    if (why)
      throw new PkgError(ErrorCodes.METADATA_INVALID, `${eggName}: EGG-INFO/inst/targets.dat line ${i + 1} is refused: ${why}`, {
        hint: 'each line must be a directory relative to the prefix',
        details: { file: eggName, entry: 'EGG-INFO/inst/targets.dat', line: i + 1 },
      });
    if (!targets.includes(line)) targets.push(line);
  }
  if (!targets.includes('lib')) targets.push('lib');
  return targets;
}

function originOf(item: LayoutItem): string {
  return item.kind === 'file' ? item.entry.name : item.origin;
}

export interface EntryPoint {
  section: 'console_scripts' | 'gui_scripts';
  name: string;
  module: string;
  attr: string;
}

/** `[console_scripts]` and `[gui_scripts]` of entry_points.txt; other sections are ignored. */
export function parseEntryPoints(text: string, eggName: string): EntryPoint[] {
  const out: EntryPoint[] = [];
  let section = '';
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#') || line.startsWith(';')) continue;
    const sec = /^\[(.+)\]$/.exec(line);
    if (sec) {
      section = sec[1]!.trim();
      continue;
    }
    if (section !== 'console_scripts' && section !== 'gui_scripts') continue;
    const m = /^([\w.-]+)\s*=\s*([A-Za-z_][\w.]*)\s*:\s*([A-Za-z_][\w.]*)\s*(\[.*\])?$/.exec(line);
    if (!m || m[1]!.startsWith('.') || m[1]!.startsWith('-')) {
      throw new PkgError(
        ErrorCodes.METADATA_INVALID,
        `${eggName}: EGG-INFO/entry_points.txt line ${i + 1} is not "name = module:function": ${line}`,
        {
          details: { file: eggName, entry: 'EGG-INFO/entry_points.txt', line: i + 1 },
        },
      );
    }
    out.push({ section, name: m[1]!, module: m[2]!, attr: m[3]! });
  }
  return out;
}

/**
 * What a layout was computed with, beyond the archive itself: the egg's file name, and the
 * interpreter's version and path where the layout asked for them. A layout kept with a store entry
 * holds for another install of the same egg only when each of these is the same again.
 */
export interface LayoutContext {
  eggName: string;
  pythonVersion?: string;
  pythonPath?: string;
}

/** A layout as the package store keeps it (JSON): files refer to the archive's members by position. */
export interface KeptLayout {
  context: LayoutContext;
  items: KeptItem[];
  postInstall?: ScriptRef;
  preUninstall?: ScriptRef;
  entryPoints: string[];
  targets: string[];
  warnings: Warning[];
}

type KeptItem =
  | { kind: 'file'; dest: string; mode: number; entry: number }
  | { kind: 'link'; dest: string; target: string; origin: string }
  | { kind: 'generated'; dest: string; mode: number; content: string; origin: string };

/** `layout`, computed from `entries` with `context`, in the form kept with a store entry. */
export function keepLayout(layout: Layout, entries: ArchiveEntry[], context: LayoutContext): KeptLayout {
  const at = new Map(entries.map((e, i) => [e, i]));
  const { metaDir: _metaDir, recordPath: _recordPath, items, ...rest } = layout;
  return {
    context,
    items: items.map((it) => (it.kind === 'file' ? { kind: 'file', dest: it.dest, mode: it.mode, entry: at.get(it.entry)! } : it)),
    ...rest,
  };
}

/**
 * A kept layout for `entries` (the same archive's members, in the same order), or null when it does
 * not hold: another context, or a reference that does not fit the members.
 */
export function restoreLayout(
  kept: KeptLayout,
  now: Pick<LayoutInput, 'id' | 'eggName' | 'entries' | 'pythonVersion' | 'pythonPath'>,
): Layout | null {
  const { id, entries } = now;
  const was = kept.context;
  // Only what the layout asked for is asked again (finding an interpreter's version may run it).
  if (was.eggName !== now.eggName) return null;
  if (was.pythonVersion !== undefined && was.pythonVersion !== now.pythonVersion()) return null;
  if (was.pythonPath !== undefined && was.pythonPath !== now.pythonPath()) return null;
  const items: LayoutItem[] = [];
  const metaDir = `EGG-INFO/${id.key}`;
  const recordPath = `${metaDir}/${RECORD_FILE}`;
  for (const it of kept.items) {
    // The store is trusted as for its files, but no kept destination may leave the package's places.
    if (it === null || typeof it !== 'object' || typeof it.dest !== 'string') return null;
    if (refusedDestination(it.dest, metaDir, recordPath) !== null) return null;
    if (it.kind !== 'file') {
      items.push(it);
      continue;
    }
    const entry = entries[it.entry];
    if (entry === undefined || entry.kind === 'dir') return null;
    items.push({ kind: 'file', dest: it.dest, mode: it.mode, entry });
  }
  const { context: _context, items: _items, ...rest } = kept;
  return { metaDir, recordPath, items, ...rest };
}
