/**
 * The package store: every egg's files extracted once, as the archive holds them (before any
 * relocation), in `<store>/<sha256 of the egg>/files/<member name>`, with a manifest of paths, sizes,
 * modes and sha256s. An entry is filled in a temporary directory beside it, flushed, every file hashed
 * again against what was inflated from the archive, made read-only, and only then renamed into place:
 * the rename is the mark of completeness, so a crash leaves a temporary directory that is ignored and
 * rebuilt. Installs link or clone from the store (stage.ts); docs/package-store.md.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { type Archive, type ArchiveListing, listingOf } from './archive.js';
import { crashPoint } from './crash.js';
import { flushFilesystem, fsyncDir, writeFileDurably } from './durable.js';
import { ErrorCodes, PkgError } from './errors.js';
import { dataRef, extractAll } from './extract-all.js';
import { hashFile } from './extract.js';
import { defaultFs } from './journal.js';
import { removeTree, type SpareSink } from './tree-ops.js';
import { directoriesOf } from './paths.js';
import type { Task } from './extract-worker.js';
import { type KeptLayout, modeFor } from './layout.js';
import { diskBytes } from './plan.js';

export const MANIFEST = 'manifest.json';
/**
 * 2: files carry `object`. 3 stored them flat (`files/<n>`), which left the directories that staging
 * makes later slower to create (a warm 200-egg install took 7 s against 3.8); 4 is 2's layout again,
 * and a version-2 entry is read as one. 5 adds `archive`, the egg's validated listing. An entry of
 * version 2 or 4 is read as one without it; one of version 1 or 3 is not seen (and is rebuilt on its
 * next use). A version-5 entry may also keep `layout` (where each member goes, layout.ts keepLayout):
 * optional, so that entries with and without it read alike, by this enpkg and by one before it.
 */
const MANIFEST_VERSION = 5;
const READ_VERSIONS: readonly number[] = [2, 4, 5];
const FILES = 'files';
const REFS = 'refs';
const SPARE = 'spare';
const TMP_PREFIX = '.tmp-';

export interface StoreFile {
  /** The archive member's name (POSIX, validated by archive.ts). */
  path: string;
  size: number;
  /** The mode as stored: the archive's mode without any write bit. */
  mode: number;
  sha256: string;
  /**
   * The file starts as object code does (ELF, Mach-O): it may be relocated for the prefix, so it is
   * always extracted from the archive, never linked.
   */
  object?: true;
}

export interface StoreManifest {
  /** 2 and 4 are read as 5 without `archive`. */
  version: typeof MANIFEST_VERSION | 2 | 4;
  /** sha256 of the egg the entry was extracted from: the entry's name. */
  egg: string;
  eggName: string;
  files: StoreFile[];
  /**
   * What validating the egg found (archive.ts): a later install of the same egg opens it without
   * parsing and checking its central directory and local headers again.
   */
  archive?: ArchiveListing;
  /**
   * The layout computed when the entry was filled, and what it was computed with: a later install of
   * the same egg in the same context takes it instead of laying the archive out again.
   */
  layout?: KeptLayout;
}

export interface StoreEntry {
  dir: string;
  sha256: string;
  manifest: StoreManifest;
  /** By member name. */
  byPath: Map<string, StoreFile>;
}

const SHA256 = /^[0-9a-f]{64}$/;
/** `.tmp-<sha256 or what>-<pid>-<hex>`: scratchName's names. */
const LEFTOVER = /^\.tmp-(?:[0-9a-f]{64}|[a-z]+)-(\d+)-[0-9a-f]+$/;

/**
 * Make sure `dir` (and the directory holding it) exist and no user but the one running us can write
 * them: a store another user can write is a way into every prefix linked from it.
 */
export function openStore(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o755 });
  for (const d of [dirname(dir), dir]) checkOwnDir(d);
  return dir;
}

/** Refuse a directory another user owns or that its group or others can write. */
export function checkOwnDir(dir: string): void {
  const st = statSync(dir);
  const uid = process.getuid?.();
  const mode = st.mode & 0o7777;
  const owner = uid !== undefined && st.uid !== uid;
  if ((mode & 0o022) !== 0 || owner) {
    const what = `mode ${mode.toString(8).padStart(4, '0')}${owner ? `, owner uid ${st.uid}` : ''}`;
    throw new PkgError(
      ErrorCodes.STORE_UNSAFE,
      `${dir} (${what}) can be written by users other than this one: the package store refuses it`,
      {
        hint: `make it yours and writable by you only (chmod go-w ${dir}), or choose another cache_dir`,
        details: { path: dir, mode },
      },
    );
  }
}

function checkKey(sha256: string): void {
  if (!SHA256.test(sha256)) throw new PkgError(ErrorCodes.INTERNAL, `not a sha256: ${JSON.stringify(sha256)}`);
}

/** The complete entry for an egg, or null if there is none (an incomplete one is never seen). */
export function readEntry(store: string, sha256: string): StoreEntry | null {
  checkKey(sha256);
  const dir = join(store, sha256);
  let text: string;
  try {
    text = readFileSync(join(dir, MANIFEST), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw e;
  }
  let manifest: StoreManifest;
  try {
    manifest = JSON.parse(text) as StoreManifest;
    if ([1, 3].includes(manifest.version as number)) return null;
    if (!READ_VERSIONS.includes(manifest.version) || manifest.egg !== sha256 || !Array.isArray(manifest.files))
      throw new Error('unexpected content');
    if (manifest.archive !== undefined && !validListing(manifest.archive)) throw new Error('unexpected archive listing');
    if (manifest.layout !== undefined && !validLayout(manifest.layout)) throw new Error('unexpected layout');
  } catch (e) {
    throw new PkgError(ErrorCodes.STORE_CORRUPT, `the store entry ${dir} has an unreadable manifest: ${(e as Error).message}`, {
      hint: 'enpkg verify --repair rebuilds it (or remove the directory)',
      details: { path: dir },
    });
  }
  return { dir, sha256, manifest, byPath: new Map(manifest.files.map((f) => [f.path, f])) };
}

function validLayout(l: KeptLayout): boolean {
  return typeof l?.context?.eggName === 'string' && Array.isArray(l.items) && Array.isArray(l.entryPoints) && Array.isArray(l.targets);
}

function validListing(l: ArchiveListing): boolean {
  return Number.isSafeInteger(l.size) && Number.isSafeInteger(l.totalSize) && Array.isArray(l.entries);
}

/** Where a stored member's content is. */
export function storedPath(entry: StoreEntry, file: StoreFile): string {
  // Concatenated: the entry's directory is normal (joined), and its files are found by archive names the layout checked.
  return `${entry.dir}/${FILES}/${file.path}`;
}

export interface FillEgg {
  sha256: string;
  archive: Archive;
  eggName: string;
  /** The egg's layout to keep with its entry, if known. */
  layout?: () => KeptLayout;
}

export interface FillInput {
  store: string;
  eggs: FillEgg[];
  durable: boolean;
  /** Progress: bytes inflated, by egg name. */
  onBytes?: (eggName: string, bytes: number) => void;
  /** Entries the caller has read already, by sha256 (the others are looked for). */
  known?: ReadonlyMap<string, StoreEntry>;
  signal?: AbortSignal;
}

/** The bytes new entries for `eggs` (none of them in the store yet) will take there. */
export function bytesToFill(eggs: FillEgg[]): number {
  let n = 0;
  const seen = new Set<string>();
  for (const egg of eggs) {
    if (seen.has(egg.sha256)) continue;
    seen.add(egg.sha256);
    for (const e of egg.archive.entries) if (e.kind === 'file') n += diskBytes(e.uncompressedSize);
  }
  return n;
}

/**
 * The entry of every egg, extracting those the store has none of yet into new entries - all of them
 * together, in worker threads when the job is large - each verified and renamed into place on its
 * own. An entry another process completed meanwhile is taken as it is.
 */
export async function fillEntries(input: FillInput): Promise<StoreEntry[]> {
  const { store } = input;
  const todo = new Map<string, { egg: FillEgg; tmp: string; tasks: Task[] }>();
  const known = new Map(input.known);
  for (const egg of input.eggs) {
    if (todo.has(egg.sha256) || known.has(egg.sha256)) continue;
    const entry = readEntry(store, egg.sha256);
    if (entry) known.set(egg.sha256, entry);
    else todo.set(egg.sha256, { egg, tmp: join(store, scratchName(egg.sha256)), tasks: [] });
  }
  try {
    for (const t of todo.values()) {
      // Each directory once, parents first (the extraction threads make none).
      mkdirSync(join(t.tmp, FILES), { recursive: true, mode: 0o755 });
      const names = t.egg.archive.entries.filter((e) => e.kind === 'file').map((e) => e.name);
      for (const d of directoriesOf(names)) mkdirSync(join(t.tmp, FILES, d), { mode: 0o755 });
      for (const e of t.egg.archive.entries) {
        if (e.kind !== 'file') continue;
        const dest = join(t.tmp, FILES, e.name);
        t.tasks.push({
          ...dataRef(e),
          archive: t.egg.archive.path,
          eggName: t.egg.eggName,
          dest,
          mode: storedMode(e.name, e.mode),
          readBack: true,
        });
      }
    }
    const tasks = [...todo.values()].flatMap((t) => t.tasks);
    const results = await extractAll(
      { tasks, relocations: [], installs: [] },
      {
        onBytes: (egg, n) => {
          crashPoint('store-file');
          input.onBytes?.(egg, n);
        },
        ...(input.signal ? { signal: input.signal } : {}),
      },
    );
    // Every file was read back and checked as it was written (readBack); now the manifests, one
    // flush of the filesystem for all of it, and the renames that mark the entries complete.
    let next = 0;
    for (const [sha256, t] of todo) {
      const files: StoreFile[] = t.tasks.map((task) => {
        const r = results[next++]!;
        return { path: task.name, size: r.size, mode: task.mode, sha256: r.sha256, ...(r.object ? { object: true } : {}) };
      });
      const manifest: StoreManifest = {
        version: MANIFEST_VERSION,
        egg: sha256,
        eggName: t.egg.eggName,
        files,
        archive: listingOf(t.egg.archive),
        ...(t.egg.layout ? { layout: t.egg.layout() } : {}),
      };
      writeFileSync(join(t.tmp, MANIFEST), `${JSON.stringify(manifest)}\n`, { mode: 0o444 });
    }
    if (input.durable && todo.size > 0)
      flushFilesystem(store, () => [...tasks.map((t) => t.dest), ...[...todo.values()].flatMap((t) => [join(t.tmp, MANIFEST), t.tmp])]);
    for (const [sha256, t] of todo) placeEntry(store, sha256, t.tmp);
    if (input.durable && todo.size > 0) fsyncDir(store);
  } finally {
    for (const t of todo.values()) removeTree(defaultFs, t.tmp);
  }
  for (const sha256 of todo.keys()) known.set(sha256, readEntry(store, sha256)!);
  return input.eggs.map((egg) => known.get(egg.sha256)!);
}

/** Rename a verified entry (manifest written, everything durable) into place. */
function placeEntry(store: string, sha256: string, tmp: string): void {
  crashPoint('store-verified');
  try {
    renameSync(tmp, join(store, sha256));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e;
    // Another process completed it first; an existing directory without a manifest is a leftover.
    if (!readEntry(store, sha256)) {
      removeTree(defaultFs, join(store, sha256));
      renameSync(tmp, join(store, sha256));
    }
  }
}

/** The mode a member is installed with, without write bits: stored files are read-only. */
export function storedMode(name: string, zipMode: number): number {
  return modeFor(name, zipMode) & ~0o222;
}

export interface EntryProblem {
  path: string;
  problem: 'missing' | 'changed' | 'mode';
}

/** Check every file of an entry against its manifest (content, size, mode). Reads only. */
export function checkEntry(entry: StoreEntry): EntryProblem[] {
  const problems: EntryProblem[] = [];
  for (const f of entry.manifest.files) {
    const path = storedPath(entry, f);
    let st;
    try {
      st = lstatSync(path);
    } catch {
      problems.push({ path: f.path, problem: 'missing' });
      continue;
    }
    if (!st.isFile() || st.size !== f.size || hashFile(path) !== f.sha256) problems.push({ path: f.path, problem: 'changed' });
    else if ((st.mode & 0o777) !== f.mode) problems.push({ path: f.path, problem: 'mode' });
  }
  return problems;
}

/** Remove an entry (complete or not) and everything in it. */
export function removeEntry(store: string, sha256: string): void {
  checkKey(sha256);
  const dir = join(store, sha256);
  // Renamed away first, so that no reader ever sees a half-removed complete entry.
  if (!existsSync(dir)) return;
  const trash = join(store, scratchName(sha256));
  renameSync(dir, trash);
  removeTree(defaultFs, trash);
}

/** A name for a temporary file or directory in the store, seen as a leftover once its writer is gone. */
export function scratchName(what: string): string {
  return `${TMP_PREFIX}${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/** The complete entries of the store (sha256s), and temporary leftovers whose writer is gone. */
export function listStore(store: string): { entries: string[]; leftovers: string[] } {
  let names: string[];
  try {
    names = readdirSync(store);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], leftovers: [] };
    throw e;
  }
  const entries = names.filter((n) => SHA256.test(n) && existsSync(join(store, n, MANIFEST)));
  const leftovers = names.filter((n) => {
    const m = LEFTOVER.exec(n);
    return m !== null && !alive(Number(m[1]));
  });
  return { entries, leftovers: leftovers.map((n) => join(store, n)) };
}

function alive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function removeLeftover(path: string): void {
  removeTree(defaultFs, path);
}

/**
 * References: one file per (entry, prefix), `<store>/refs/<sha256>/<hash of the prefix>`, holding the
 * prefix's path. One file each, so that transactions in different prefixes never write the same file.
 */
const refFile = (store: string, sha256: string, prefix: string): string =>
  join(store, REFS, sha256, createHash('sha256').update(prefix).digest('hex').slice(0, 32));

/**
 * Reference each entry of `sha256s` from `prefix`. The new reference files are written, then made
 * durable together: one flush of the store's filesystem (durable.ts), not an fsync each.
 */
export function addReferences(store: string, sha256s: Iterable<string>, prefix: string, durable = true): void {
  const written: string[] = [];
  for (const sha256 of new Set(sha256s)) {
    checkKey(sha256);
    const path = refFile(store, sha256, prefix);
    if (existsSync(path)) continue;
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    writeFileDurably(path, prefix, { durable: false });
    written.push(path);
  }
  if (durable && written.length > 0)
    flushFilesystem(store, () => [...written, ...new Set(written.map((p) => dirname(p))), join(store, REFS), store]);
}

/**
 * Drop one prefix's reference to an entry. The entry's directory of references stays, empty or not,
 * as long as the entry does (dropReferences removes it with the entry): a revert or an update back
 * references the entry again without making the directory anew.
 */
export function removeReference(store: string, sha256: string, prefix: string): void {
  checkKey(sha256);
  rmSync(refFile(store, sha256, prefix), { force: true });
}

/** Drop every reference to an entry, its directory of references with them (when the entry is removed). */
export function dropReferences(store: string, sha256: string): void {
  checkKey(sha256);
  rmSync(join(store, REFS, sha256), { recursive: true, force: true });
}

/** The prefixes that reference an entry. */
export function referencesOf(store: string, sha256: string): string[] {
  checkKey(sha256);
  const dir = join(store, REFS, sha256);
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    try {
      return [readFileSync(join(dir, n), 'utf8')];
    } catch {
      return [];
    }
  });
}

/**
 * Spare directories: `<store>/spare/<name>`, empty directories that a transaction's cleanup keeps
 * (tree-ops.ts SpareSink) instead of removing, when the store is on the prefix's filesystem, and that
 * staging renames into its tree instead of making new ones (docs/package-store.md). On filesystems
 * where making and removing a directory cost ten times a rename (ext4 without a journal: inodes freed
 * recently are skipped, one by one, by every allocation after them), the directories of an update or
 * a revert are then reused, not made and removed. At most SPARE_DIRS_MAX (16 MiB of directories).
 */
export const SPARE_DIRS_MAX = 4096;

export const spareDir = (store: string): string => join(store, SPARE);

/** The spare directories of the store now (their paths; anything else there is left alone), made if missing. */
export function spareDirs(store: string): string[] {
  const dir = spareDir(store);
  try {
    return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [join(dir, e.name)] : []));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    mkdirSync(dir, { mode: 0o755 });
    return [];
  }
}

/** Where a cleanup keeps the directories it empties: the store's spares, with room for SPARE_DIRS_MAX. */
export function spareSink(store: string): SpareSink {
  const room = new Int32Array(new SharedArrayBuffer(4));
  room[0] = Math.max(0, SPARE_DIRS_MAX - spareDirs(store).length);
  return { dir: spareDir(store), room, uid: process.getuid?.() ?? -1 };
}

/** Remove the spare directories (cache clean). */
export function removeSpareDirs(store: string): void {
  removeTree(defaultFs, spareDir(store));
}

/** Whether the store and `prefix` are on one filesystem (as far as stat tells), so that a directory can move between them. */
export function sameFilesystem(store: string, prefix: string): boolean {
  try {
    return statSync(store).dev === statSync(prefix).dev;
  } catch {
    return false;
  }
}
