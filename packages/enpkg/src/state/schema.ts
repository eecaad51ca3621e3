/** The state database's schema (migrations by PRAGMA user_version), its rows, and how they read back. */
import type { Change, FileRecord } from 'egginst/core';
import { corruptRow } from './errors.js';
import type { EggRecord, InstalledRow, Revision, RevisionKind } from './types.js';

/** Migrations, in order; the index + 1 is the user_version they lead to. Never edit a released one. */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE packages (
     key TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     version TEXT NOT NULL,
     build INTEGER NOT NULL,
     egg_name TEXT NOT NULL,
     sha256 TEXT,
     repository TEXT,
     marked INTEGER NOT NULL DEFAULT 0,
     installed_at TEXT NOT NULL,
     depends TEXT NOT NULL DEFAULT '[]'
   );
   CREATE TABLE files (
     key TEXT NOT NULL REFERENCES packages(key) ON DELETE CASCADE,
     path TEXT NOT NULL,
     kind TEXT NOT NULL,
     sha256 TEXT,
     size INTEGER,
     mode INTEGER,
     target TEXT,
     PRIMARY KEY (key, path)
   );
   CREATE TABLE revisions (
     id INTEGER PRIMARY KEY,
     time TEXT NOT NULL,
     command TEXT NOT NULL,
     user TEXT NOT NULL,
     kind TEXT NOT NULL,
     txn_id TEXT UNIQUE,
     changes TEXT NOT NULL,
     installed TEXT NOT NULL
   );
   CREATE TABLE serials (
     repository TEXT PRIMARY KEY,
     serial INTEGER NOT NULL,
     accepted_at TEXT NOT NULL
   );
   CREATE TABLE eggs (
     egg_name TEXT PRIMARY KEY,
     key TEXT NOT NULL,
     name TEXT NOT NULL,
     version TEXT NOT NULL,
     build INTEGER NOT NULL,
     sha256 TEXT,
     repository TEXT,
     depends TEXT NOT NULL DEFAULT '[]'
   );`,
  // Facts about the prefix worth remembering between runs (e.g. the install records' signature).
  `CREATE TABLE meta (
     key TEXT PRIMARY KEY,
     value TEXT NOT NULL
   );`,
  // The keys marked (asked for) after each revision, as JSON; NULL where not known (imported, older).
  'ALTER TABLE revisions ADD COLUMN marked TEXT;',
  // A package's files as one JSON row (its install record's list), not a row per file: written with
  // every install of it, and 20,000 rows for 100 packages cost more than the install from the store.
  `CREATE TABLE package_files (
     key TEXT PRIMARY KEY REFERENCES packages(key) ON DELETE CASCADE,
     files TEXT NOT NULL
   );
   INSERT INTO package_files (key, files)
     SELECT key, json_group_array(json_object('path', path, 'kind', kind, 'sha256', sha256, 'size', size, 'mode', mode, 'target', target)
                                  ORDER BY path)
     FROM files GROUP BY key;
   DROP TABLE files;`,
];

export interface Row {
  key: string;
  name: string;
  version: string;
  build: number;
  egg_name: string;
  sha256: string | null;
  repository: string | null;
  marked: number;
  installed_at: string;
  depends: string;
}

export interface EggRow {
  egg_name: string;
  key: string;
  name: string;
  version: string;
  build: number;
  sha256: string | null;
  repository: string | null;
  depends: string;
}

export interface RevisionRow {
  id: number;
  time: string;
  command: string;
  user: string;
  kind: string;
  txn_id: string | null;
  changes: string;
  installed: string;
  marked: string | null;
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');
const isChanges = (v: unknown): v is Change[] =>
  Array.isArray(v) && v.every((c) => c !== null && typeof c === 'object' && typeof (c as Change).kind === 'string');

/** A JSON column, parsed and checked; anything else is STATE_CORRUPT naming the row. */
function jsonColumn<T>(
  path: string,
  where: { table: string; subject: string; column: string },
  text: unknown,
  ok: (v: unknown) => v is T,
): T {
  let v: unknown;
  try {
    if (typeof text !== 'string') throw new Error(`it holds ${text === null ? 'NULL' : typeof text}, not JSON text`);
    v = JSON.parse(text);
  } catch (e) {
    throw corruptRow(path, where.table, where.subject, `column ${where.column} is not valid JSON (${(e as Error).message})`);
  }
  if (!ok(v)) throw corruptRow(path, where.table, where.subject, `column ${where.column} does not hold what enpkg writes there`);
  return v;
}

export function toInstalled(path: string, r: Row): InstalledRow {
  return {
    key: r.key,
    name: r.name,
    version: r.version,
    build: r.build,
    eggName: r.egg_name,
    sha256: r.sha256,
    repository: r.repository,
    marked: r.marked === 1,
    installedAt: r.installed_at,
    depends: jsonColumn(path, { table: 'packages', subject: `package ${r.key}`, column: 'depends' }, r.depends, isStrings),
  };
}

export function toRevision(path: string, r: RevisionRow): Revision {
  const where = (column: string) => ({ table: 'revisions', subject: `revision ${r.id}`, column });
  return {
    id: r.id,
    time: r.time,
    command: r.command,
    user: r.user,
    kind: r.kind as RevisionKind,
    txnId: r.txn_id,
    changes: jsonColumn(path, where('changes'), r.changes, isChanges),
    installed: jsonColumn(path, where('installed'), r.installed, isStrings),
    marked: r.marked === null || r.marked === undefined ? null : jsonColumn(path, where('marked'), r.marked, isStrings),
  };
}

export function toEgg(path: string, r: EggRow): EggRecord {
  return {
    eggName: r.egg_name,
    key: r.key,
    name: r.name,
    version: r.version,
    build: r.build,
    sha256: r.sha256,
    repository: r.repository,
    depends: jsonColumn(path, { table: 'eggs', subject: `egg ${r.egg_name}`, column: 'depends' }, r.depends, isStrings),
  };
}

const FILE_KINDS = new Set(['file', 'link']);
const optional = (v: unknown, type: 'string' | 'number'): boolean => v === undefined || v === null || typeof v === type;
const isFiles = (v: unknown): v is Array<Record<string, unknown>> =>
  Array.isArray(v) &&
  v.every(
    (f) =>
      f !== null &&
      typeof f === 'object' &&
      typeof f.path === 'string' &&
      FILE_KINDS.has(f.kind) &&
      optional(f.sha256, 'string') &&
      optional(f.size, 'number') &&
      optional(f.mode, 'number') &&
      optional(f.target, 'string'),
  );

/** A package's files (package_files.files), by path; a column migrated from rows per file holds NULLs for what is absent. */
export function toFiles(path: string, key: string, text: unknown): FileRecord[] {
  const files = jsonColumn(path, { table: 'package_files', subject: `package ${key}`, column: 'files' }, text, isFiles);
  return files
    .map((f) => {
      const rec: FileRecord = { path: f.path as string, kind: f.kind as FileRecord['kind'] };
      if (typeof f.sha256 === 'string') rec.sha256 = f.sha256;
      if (typeof f.size === 'number') rec.size = f.size;
      if (typeof f.mode === 'number') rec.mode = f.mode;
      if (typeof f.target === 'string') rec.target = f.target;
      return rec;
    })
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
