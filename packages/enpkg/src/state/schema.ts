/** The state database's schema (migrations by PRAGMA user_version), its rows, and how they read back. */
import type { Change } from 'egginst/core';
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
