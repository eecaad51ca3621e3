/**
 * Contract types of egginst. Types only: this module imports no implementation.
 */
import type { WarningCode } from './codes.js';

/** An egg's identity as its file name states it: `<name>-<version>-<build>.egg`. */
export interface EggId {
  /** The name as written (display spelling, e.g. `MKL`). */
  name: string;
  /** The canonical key: the lower-cased name. */
  key: string;
  version: string;
  build: number;
}

/** `EGG-INFO/spec/depend` (overridden by `EGG-INFO/info.json`), parsed as literals only. */
export interface EggSpec {
  metadata_version?: string;
  name?: string;
  version?: string;
  build?: number;
  arch?: string | null;
  platform?: string | null;
  osdist?: string | null;
  python?: string | null;
  /** Requirement strings (`numpy 1.8.1-1`, `MKL >= 10.3`). */
  packages: string[];
  /** Every other key, kept as read. */
  extra: Record<string, unknown>;
}

export interface EggMetadata {
  id: EggId;
  /** The archive's file name (`dummy-1.0.1-1.egg`). */
  eggName: string;
  spec: EggSpec;
  summary?: string;
  /** True for a plain setuptools egg, whose identity came from PKG-INFO. */
  setuptools: boolean;
}

/** One file, link or directory owned by an installed package, relative to the prefix. */
export interface FileRecord {
  /** Prefix-relative POSIX path without leading `./`. */
  path: string;
  kind: 'file' | 'link';
  /** For files. */
  sha256?: string;
  size?: number;
  mode?: number;
  /** For links: the literal target. */
  target?: string;
}

/** `<prefix>/EGG-INFO/<key>/egginst.json`. */
export interface InstallRecord {
  /** The file name of the egg it came from. */
  egg_name: string;
  name: string;
  key: string;
  version: string;
  build: number;
  /** Enstaller's form: `./`-prefixed prefix-relative paths, the record itself included. */
  files: string[];
  /** Ours: per-file facts. Absent in records written by Enstaller. */
  records?: FileRecord[];
  installed_size: number;
  prefix: string;
  /** Scripts written from entry points (prefix-relative). */
  entry_points?: string[];
  /** Links made from files_to_install.txt or zip symlink entries (prefix-relative). */
  links?: string[];
  /** When it was installed (ISO 8601). */
  installed_at?: string;
  /** The spec as installed (so `list` need not reopen the archive). */
  spec?: Omit<EggSpec, 'extra'>;
}

/** An installed package as `list` reports it. */
export interface InstalledPackage {
  key: string;
  name: string;
  version: string;
  build: number;
  eggName: string;
  /** True when the record is Enstaller's older form (no per-file hashes). */
  legacyRecord: boolean;
  installedSize: number;
  files: number;
  metaDir: string;
}

export type Phase = 'check' | 'stage' | 'apply' | 'scripts' | 'commit' | 'cleanup' | 'recover';

export interface ProgressEvent {
  phase: Phase;
  /** The egg or package the event is about. */
  subject: string;
  done: number;
  total: number;
  unit: 'bytes' | 'files' | 'steps';
}

export interface Warning {
  code: WarningCode;
  message: string;
  subject?: string;
}

/**
 * What egginst reports. Strings are raw (names from archives and records): a renderer escapes them
 * for a terminal.
 */
export type EgginstEvent =
  /** Something the user should know; the run goes on. */
  | { readonly type: 'warning'; readonly warning: Warning }
  /** Detail for `-v`. */
  | { readonly type: 'info'; readonly message: string }
  /** Another process holds the prefix and the run waits for it (`--wait`). */
  | { readonly type: 'lock-wait'; readonly prefix: string; readonly holder: string }
  /** A stage of a transaction (check, stage, apply, scripts, commit, cleanup) or of recovery. */
  | { readonly type: 'install'; readonly progress: ProgressEvent }
  /** A line a package script printed (shown with `-v`). */
  | { readonly type: 'script-output'; readonly subject: string; readonly line: string };

/**
 * Where library code sends everything a user might see: one method, one discriminated union of
 * events (enpkg's reporter takes a superset of egginst's). The CLI renders it; library code never
 * prints. `report` must not throw.
 */
export interface Reporter<E extends { readonly type: string } = EgginstEvent> {
  report(event: E): void;
}

export interface ScriptOptions {
  /** Skip post-install and pre-uninstall scripts. */
  noScripts?: boolean;
  /** The Python interpreter for `.py` scripts, entry points and shebangs (default: the prefix's own, else `python3` on PATH). */
  python?: string;
  /** Seconds before a script's whole process group is killed (default 300). */
  timeoutSeconds?: number;
}

export interface Limits {
  /** Most entries one archive may hold. */
  maxEntries: number;
  /** Most bytes one archive may expand to. */
  maxTotalSize: number;
  /** Most bytes one entry may expand to. */
  maxEntrySize: number;
  /** Largest metadata file read into memory (spec/depend, info.json, ...). */
  maxMetadataSize: number;
}

/** Something a transaction should do to the prefix. */
export type EggJob =
  | {
      kind: 'install';
      eggPath: string /** The file name to take the identity from, if eggPath is not named after the egg (a cache entry, say). */;
      eggName?: string;
      /** The archive's sha256, when known (it names the egg's store entry; else it is computed). */
      sha256?: string;
    }
  | { kind: 'remove'; key: string };

/** What one transaction did, per package. */
export type Change =
  | { kind: 'install'; key: string; name: string; version: string; build: number; eggName: string }
  | {
      kind: 'update';
      key: string;
      name: string;
      from: { version: string; build: number; eggName: string };
      to: { version: string; build: number; eggName: string };
    }
  | { kind: 'remove'; key: string; name: string; version: string; build: number; eggName: string };

export interface TransactionResult {
  id: string;
  changes: Change[];
  warnings: Warning[];
  /** The install record written for each package installed or updated, by key (what its egginst.json holds). */
  records: ReadonlyMap<string, InstallRecord>;
}
