/**
 * Stage 3: plan a transaction against the prefix as it is. Decides every rename (what is moved aside,
 * what is placed, which directories are made), refuses conflicts, unsafe prefix paths and link
 * targets that leave the prefix. Reads the disk (lstat), changes nothing.
 */
import { type Dirent, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Archive } from './archive.js';
import { ErrorCodes, PkgError, WarningCodes } from './errors.js';
import type { KeptLayout, Layout, LayoutItem, ScriptRef } from './layout.js';
import { ancestors, launcherPaths, linkStaysInside, parentOf } from './paths.js';
import { describeRefused, ownedPaths } from './record.js';
import type { Change, EggMetadata, InstallRecord, Warning } from './types.js';

export interface PreparedEgg {
  eggPath: string;
  archive: Archive;
  meta: EggMetadata;
  layout: Layout;
  /** The interpreter for this egg's scripts and shebangs (looked up when first asked). */
  python: () => string;
  /** The layout in the form the package store keeps with the egg's entry. */
  keptLayout: () => KeptLayout;
}

export type Op =
  | { op: 'backup'; path: string; backup: string }
  | { op: 'mkdir'; path: string }
  | { op: 'place'; path: string; staged: string };

export interface StageItem {
  staged: string;
  egg: PreparedEgg;
  item: LayoutItem;
}

export interface ScriptCall {
  script: ScriptRef;
  key: string;
  pkg: { name: string; version: string; build: number };
  /** The package's `python` key, for the choice of interpreter. */
  python: string | null;
}

export interface FilePlan {
  ops: Op[];
  stage: StageItem[];
  /** Staged names of each egg's install record (written after staging, when hashes are known). */
  records: Map<PreparedEgg, string>;
  /** Directories to remove after commit if they became empty, deepest first. */
  prune: string[];
  changes: Change[];
  preUninstall: ScriptCall[];
  postInstall: ScriptCall[];
  /** Bytes the staged files and the journal will take (what the free-space check asks for). */
  bytesNeeded: number;
  warnings: Warning[];
}

export interface FilePlanInput {
  prefix: string;
  installs: PreparedEgg[];
  removes: string[];
  /** Every installed package's record, by key. */
  installed: Map<string, InstallRecord>;
  force: boolean;
}

/** Directories never pruned, even when empty. */
function isProtected(dir: string): boolean {
  return dir === '' || dir === 'bin' || dir === 'lib' || /(^|\/)site-packages$/.test(dir);
}

export function planFiles(input: FilePlanInput): FilePlan {
  const { prefix, installs, installed, force } = input;
  const warnings: Warning[] = [];
  const stat = statCache(prefix);
  const guarded = launcherPaths(prefix);
  const replacedKeys = new Set<string>([...input.removes, ...installs.map((e) => e.meta.id.key)].filter((k) => installed.has(k)));

  // Who owns what, leaving out the packages this transaction replaces or removes.
  const owners = new Map<string, string>();
  const removedPaths = new Map<string, string>();
  /** The paths of each replaced or removed package. */
  const replacedPaths = new Map<string, string[]>();
  for (const [key, rec] of installed) {
    const { paths, refused } = ownedPaths(rec, prefix);
    if (replacedKeys.has(key)) {
      replacedPaths.set(key, paths);
      if (refused.length) warnings.push({ code: WarningCodes.RECORD_OUTSIDE_PREFIX, message: describeRefused(key, refused), subject: key });
      for (const p of paths) removedPaths.set(p, key);
    } else for (const p of paths) owners.set(p, key);
  }

  const newPaths = new Map<string, PreparedEgg>();
  for (const egg of installs) {
    for (const item of egg.layout.items) {
      const other = newPaths.get(item.dest);
      if (other) {
        throw new PkgError(ErrorCodes.FILE_CONFLICT, `${item.dest} is in both ${egg.meta.eggName} and ${other.meta.eggName}`, {
          hint: 'install them in separate transactions, or not at all: they cannot both own the file',
          details: { path: item.dest, packages: [egg.meta.id.key, other.meta.id.key] },
        });
      }
      newPaths.set(item.dest, egg);
    }
    newPaths.set(egg.layout.recordPath, egg);
  }

  const ops: Op[] = [];
  const backups: Op[] = [];
  const mkdirs = new Set<string>();
  let nBackup = 0;
  const backup = (path: string): void => {
    backups.push({ op: 'backup', path, backup: `b/${nBackup++}` });
  };

  // A directory whose every entry is a path of the packages this transaction replaces or removes,
  // and that at most one new egg writes into, is moved aside whole and the new egg's tree moved in
  // whole: two renames in place of two per file.
  const swapped = wholeDirs(prefix, stat, removedPaths, owners, newPaths);
  const inSwapped = (path: string): boolean => swapped.size > 0 && ancestors(path).some((a) => swapped.has(a));
  const prune = new Set<string>();
  for (const d of swapped.keys()) {
    backup(d);
    for (const a of ancestors(d)) if (!isProtected(a)) prune.add(a);
  }
  // Paths of replaced or removed packages that no new package takes over are deleted.
  for (const [path, key] of removedPaths) {
    // Kept if a new package takes it over, or another installed package owns it too (after --force).
    if (newPaths.has(path) || owners.has(path) || inSwapped(path)) continue;
    const st = stat(path);
    if (!st || st.isDirectory()) continue;
    const through = symlinkAncestor(stat, path);
    if (through !== null) {
      warnings.push({
        code: WarningCodes.RECORD_THROUGH_LINK,
        message: `${path} of ${key} lies behind the symlink ${through} and was left alone`,
        subject: key,
      });
      continue;
    }
    backup(path);
    if (path.endsWith('.py')) {
      for (const ext of ['c', 'o']) {
        const sib = `${path}${ext}`;
        if (!removedPaths.has(sib) && !owners.has(sib) && !newPaths.has(sib) && stat(sib)?.isFile()) backup(sib);
      }
    }
    for (const a of ancestors(path)) if (!isProtected(a)) prune.add(a);
  }

  // Every place is staged at s/<n> (n: its place in the plan), a file or a directory moved in whole,
  // so that staging makes no directories but the ones that move. A directory missing from the prefix
  // (or moved aside whole) that only one egg writes into moves into place with a single rename: the
  // shallowest such directory on each path (lib/ shared by many new packages is made, lib/<one>/
  // of one package is moved whole).
  const stage: StageItem[] = [];
  const records = new Map<PreparedEgg, string>();
  const places: Op[] = [];
  /** For every directory missing from the prefix, the eggs that write into it. */
  const dirEggs = new Map<string, Set<number>>();
  const rootOf: Map<string, string | null>[] = [];
  let bytesNeeded = 0;
  installs.forEach((egg, i) => {
    const roots = new Map<string, string | null>();
    rootOf.push(roots);
    /** The root found for each parent directory (it depends on the parent alone), looked for once. */
    const rootOfParent = new Map<string, string | null>();
    for (const dest of [...egg.layout.items.map((it) => it.dest), egg.layout.recordPath]) {
      const guard = guarded.get(dest);
      if (guard) {
        throw new PkgError(ErrorCodes.FILE_CONFLICT, `${dest} from ${egg.meta.eggName} would replace ${guard}`, {
          hint: 'enpkg lives in this prefix and needs it; install that package into another prefix',
          details: { path: dest, package: egg.meta.id.key },
        });
      }
      const owner = owners.get(dest);
      if (owner !== undefined && !force) {
        throw new PkgError(
          ErrorCodes.FILE_CONFLICT,
          `${dest} from ${egg.meta.eggName} is already owned by the installed package ${owner}`,
          {
            hint: `remove ${owner} first, or pass --force to overwrite its file`,
            details: { path: dest, package: egg.meta.id.key, owner },
          },
        );
      }
      const parent = parentOf(dest);
      let root = rootOfParent.get(parent);
      if (root === undefined) {
        root = null;
        for (const a of ancestors(dest)) {
          if (swapped.has(a)) {
            root = a;
            break;
          }
          const st = stat(a);
          if (!st || (!st.isDirectory() && !st.isSymbolicLink() && removedPaths.has(a))) {
            root = a;
            break;
          }
          if (st.isSymbolicLink()) {
            throw new PkgError(
              ErrorCodes.UNSAFE_PREFIX_PATH,
              `${dest} from ${egg.meta.eggName} would be written through the symlink ${join(prefix, a)}`,
              {
                hint: 'egginst never writes through symlinks; replace the link with a directory',
                details: { path: dest, link: a },
              },
            );
          }
          if (!st.isDirectory()) {
            throw new PkgError(
              ErrorCodes.FILE_CONFLICT,
              `${dest} from ${egg.meta.eggName} needs the directory ${a}, but a file is in the way`,
              {
                hint: `move ${join(prefix, a)} away`,
                details: { path: dest, blocker: a },
              },
            );
          }
        }
        rootOfParent.set(parent, root);
        if (root !== null)
          for (const a of ancestors(dest)) {
            if (a.length < root.length) continue;
            const users = dirEggs.get(a) ?? new Set<number>();
            users.add(i);
            dirEggs.set(a, users);
          }
      }
      roots.set(dest, root);
      if (root !== null) continue;
      const st = stat(dest);
      if (st?.isDirectory()) {
        throw new PkgError(ErrorCodes.FILE_CONFLICT, `${dest} from ${egg.meta.eggName} cannot be installed: a directory is in the way`, {
          hint: `move ${join(prefix, dest)} away`,
          details: { path: dest },
        });
      }
      if (st) {
        if (owner === undefined && !removedPaths.has(dest))
          warnings.push({
            code: WarningCodes.REPLACING_UNOWNED,
            message: `${dest} exists but belongs to no package; it is replaced`,
            subject: egg.meta.id.key,
          });
        if (owner !== undefined)
          warnings.push({
            code: WarningCodes.OVERWRITING_OWNED,
            message: `${dest} of ${owner} is overwritten (--force)`,
            subject: egg.meta.id.key,
          });
        backup(dest);
      }
    }
  });
  installs.forEach((egg, i) => {
    const planned = new Map(egg.layout.items.filter((it) => it.kind === 'link').map((it) => [it.dest, (it as { target: string }).target]));
    /** The staged name of each directory this egg moves in whole. */
    const units = new Map<string, string>();
    /** Plan the place of `dest` and return where it is staged. */
    /** The directory each parent directory's paths move in with (null: none, each path is placed on its own). */
    const unitDirOf = new Map<string, string | null>();
    const place = (dest: string): string => {
      const root = rootOf[i]!.get(dest) ?? null;
      if (root !== null) {
        const parent = parentOf(dest);
        let dir = unitDirOf.get(parent);
        if (dir === undefined) {
          dir = null;
          for (const a of ancestors(dest)) {
            if (a.length < root.length) continue;
            if (dirEggs.get(a)!.size === 1) {
              dir = a;
              break;
            }
            mkdirs.add(a);
          }
          unitDirOf.set(parent, dir);
        }
        if (dir !== null) {
          let unit = units.get(dir);
          if (unit === undefined) {
            unit = `s/${places.length}`;
            units.set(dir, unit);
            places.push({ op: 'place', path: dir, staged: unit });
          }
          return `${unit}${dest.slice(dir.length)}`;
        }
      }
      const unit = `s/${places.length}`;
      places.push({ op: 'place', path: dest, staged: unit });
      return unit;
    };
    for (const item of egg.layout.items) {
      if (item.kind === 'link') {
        const view = { planned: (rel: string) => planned.get(rel), removed: (rel: string) => removedPaths.has(rel) && !planned.has(rel) };
        if (!linkStaysInside(prefix, item.dest, item.target, view)) {
          throw new PkgError(
            ErrorCodes.ARCHIVE_LINK_OUTSIDE,
            `${egg.meta.eggName}: link ${item.origin} -> ${item.target} points outside the prefix`,
            {
              hint: 'the archive is broken or hostile; nothing was installed',
              details: { file: egg.meta.eggName, entry: item.origin, target: item.target },
            },
          );
        }
      } else bytesNeeded += diskBytes(item.kind === 'file' ? item.entry.uncompressedSize : Buffer.byteLength(item.content));
      stage.push({ staged: place(item.dest), egg, item });
    }
    records.set(egg, place(egg.layout.recordPath));
    bytesNeeded += 65536;
  });

  for (const d of [...mkdirs].sort((a, b) => depth(a) - depth(b) || a.localeCompare(b))) ops.push({ op: 'mkdir', path: d });
  const allOps = [...backups, ...ops, ...places];
  bytesNeeded += journalBytes(allOps);
  const changes = describeChanges(input);
  const scriptPkg = (m: EggMetadata) => ({ name: m.id.name, version: m.id.version, build: m.id.build });
  const preUninstall: ScriptCall[] = [];
  for (const key of replacedKeys) {
    const rec = installed.get(key)!;
    const script = installedScript(rec, replacedPaths.get(key)!, stat);
    if (script)
      preUninstall.push({ script, key, pkg: { name: rec.name, version: rec.version, build: rec.build }, python: rec.spec?.python ?? null });
  }
  const postInstall: ScriptCall[] = [];
  for (const egg of installs)
    if (egg.layout.postInstall)
      postInstall.push({
        script: egg.layout.postInstall,
        key: egg.meta.id.key,
        pkg: scriptPkg(egg.meta),
        python: egg.meta.spec.python ?? null,
      });
  return {
    ops: allOps,
    stage,
    records,
    prune: [...prune].sort((a, b) => depth(b) - depth(a) || b.localeCompare(a)),
    changes,
    preUninstall,
    postInstall,
    bytesNeeded,
    warnings,
  };
}

function describeChanges({ installs, removes, installed }: FilePlanInput): Change[] {
  const changes: Change[] = [];
  for (const key of removes) {
    const rec = installed.get(key)!;
    changes.push({ kind: 'remove', key, name: rec.name, version: rec.version, build: rec.build, eggName: rec.egg_name });
  }
  for (const egg of installs) {
    const { id } = egg.meta;
    const old = installed.get(id.key);
    const to = { version: id.version, build: id.build, eggName: egg.meta.eggName };
    if (old)
      changes.push({
        kind: 'update',
        key: id.key,
        name: id.name,
        from: { version: old.version, build: old.build, eggName: old.egg_name },
        to,
      });
    else changes.push({ kind: 'install', key: id.key, name: id.name, ...to });
  }
  return changes;
}

/** The pre-uninstall script of an installed package, if its record lists one that is present. */
function installedScript(rec: InstallRecord, owned: string[], stat: (p: string) => PathType | null): ScriptRef | undefined {
  const meta = `EGG-INFO/${rec.key}`;
  for (const [kind, path] of [
    ['exec', `${meta}/inst/pre-uninstall`],
    ['python', `${meta}/pre_egguninst.py`],
  ] as const) {
    if (owned.includes(path) && stat(path)?.isFile() && symlinkAncestor(stat, path) === null) return { kind, path };
  }
  return undefined;
}

/**
 * The directories of the prefix to move aside whole: the shallowest on each path that is a real
 * directory (not behind a symlink, not bin/, lib/ or site-packages/), holds nothing but paths of the
 * replaced and removed packages (and the compiled .pyc/.pyo beside their .py files, which are deleted
 * with them), and is written into by at most one new egg (the one whose tree moves in, or none).
 */
function wholeDirs(
  prefix: string,
  stat: (p: string) => PathType | null,
  removedPaths: Map<string, string>,
  owners: Map<string, string>,
  newPaths: Map<string, PreparedEgg>,
): Set<string> {
  const candidates = new Set<string>();
  for (const p of removedPaths.keys()) for (const a of ancestors(p)) if (!isProtected(a)) candidates.add(a);
  const out = new Set<string>();
  if (candidates.size === 0) return out;
  const many = new Set<string>();
  const writer = new Map<string, PreparedEgg>();
  for (const [p, egg] of newPaths) {
    if (candidates.has(p)) many.add(p);
    for (const a of ancestors(p)) {
      if (!candidates.has(a)) continue;
      const w = writer.get(a);
      if (w === undefined) writer.set(a, egg);
      else if (w !== egg) many.add(a);
    }
  }
  const onlyRemoved = (rel: string): boolean => {
    let entries: Dirent[];
    try {
      entries = readdirSync(join(prefix, rel), { withFileTypes: true });
    } catch {
      return false;
    }
    for (const e of entries) {
      const path = `${rel}/${e.name}`;
      if (e.isDirectory()) {
        if (!candidates.has(path) || !onlyRemoved(path)) return false;
      } else if (owners.has(path)) return false;
      else if (
        !removedPaths.has(path) &&
        !(e.isFile() && /\.py[co]$/.test(path) && removedPaths.has(path.slice(0, -1)) && !newPaths.has(path))
      )
        return false;
    }
    return true;
  };
  const byDepth = [...candidates].sort((a, b) => depth(a) - depth(b));
  for (const d of byDepth) {
    if (many.has(d) || ancestors(d).some((a) => out.has(a))) continue;
    if (stat(d) !== TYPES.dir || symlinkAncestor(stat, d) !== null || !onlyRemoved(d)) continue;
    out.add(d);
  }
  return out;
}

function symlinkAncestor(stat: (p: string) => PathType | null, path: string): string | null {
  for (const a of ancestors(path)) if (stat(a)?.isSymbolicLink()) return a;
  return null;
}

/** What the planner needs to know of a path: its type. One shared object per type, not a Stats per path. */
interface PathType {
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

const TYPES = {
  file: { isFile: () => true, isDirectory: () => false, isSymbolicLink: () => false },
  dir: { isFile: () => false, isDirectory: () => true, isSymbolicLink: () => false },
  link: { isFile: () => false, isDirectory: () => false, isSymbolicLink: () => true },
  other: { isFile: () => false, isDirectory: () => false, isSymbolicLink: () => false },
} satisfies Record<string, PathType>;

function statCache(prefix: string): (rel: string) => PathType | null {
  const cache = new Map<string, PathType | null>();
  return (rel) => {
    let st = cache.get(rel);
    if (st === undefined) {
      try {
        const s = lstatSync(join(prefix, rel));
        st = s.isFile() ? TYPES.file : s.isDirectory() ? TYPES.dir : s.isSymbolicLink() ? TYPES.link : TYPES.other;
      } catch {
        st = null;
      }
      cache.set(rel, st);
    }
    return st;
  };
}

/** Room for the journal: a new copy is written beside the old one, and a caller's payload keeps one more after commit. */
function journalBytes(ops: Op[]): number {
  let n = 4096;
  for (const op of ops) n += 64 + op.path.length + (op.op === 'backup' ? op.backup.length : op.op === 'place' ? op.staged.length : 0);
  return diskBytes(3 * n);
}

const depth = (p: string): number => p.split('/').length;
/** The blocks `n` bytes of data take (4 KiB each). */
export const dataBlocks = (n: number): number => Math.ceil(n / 4096) * 4096;
/** What a file of `n` bytes costs: its data blocks and one more for its inode and directory entry. */
export const diskBytes = (n: number): number => dataBlocks(n) + 4096;
