/** The state database's contract types: what it stores and returns (no implementation here). */
import type { Change, FileRecord } from 'egginst/core';

export interface InstalledRow {
  key: string;
  name: string;
  version: string;
  build: number;
  eggName: string;
  sha256: string | null;
  repository: string | null;
  marked: boolean;
  installedAt: string;
  depends: string[];
}

export type RevisionKind = 'transaction' | 'external' | 'import' | 'revert' | 'self-update';

export interface Revision {
  id: number;
  time: string;
  command: string;
  user: string;
  kind: RevisionKind;
  txnId: string | null;
  changes: Change[];
  /** Egg file names of the whole installed set after this revision, sorted. */
  installed: string[];
  /** Keys of the packages marked as asked for after this revision; null where not known (imported history). */
  marked: string[] | null;
}

export interface PackageWrite extends Omit<InstalledRow, 'installedAt'> {
  files: FileRecord[];
}

export interface CommitInput {
  kind: RevisionKind;
  command: string;
  user: string;
  txnId?: string;
  /** When it happened (default now). */
  time?: string;
  changes: Change[];
  /** Packages installed or replaced, with their files. */
  put: PackageWrite[];
  /** Keys removed. */
  remove: string[];
  /** Keys whose marked flag changes, without other change. */
  mark?: { key: string; marked: boolean }[];
  /** For imported history: the installed set as that history says, not as the packages table has it. */
  installed?: string[];
}

export interface EggRecord {
  eggName: string;
  key: string;
  name: string;
  version: string;
  build: number;
  sha256: string | null;
  repository: string | null;
  depends: string[];
}

/** A write to the state database held open (its lock taken) from `beginWrite` until `commit`. */
export interface StateWrite {
  /** Make everything recorded since `beginWrite` durable, as one SQLite transaction. */
  commit(): void;
  /** Undo everything recorded since `beginWrite` and let go of the lock; after `commit`, nothing. For `finally`. */
  release(): void;
}
