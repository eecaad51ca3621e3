/**
 * Installed state and history: `<prefix>/.enpkg/state.db`. The only module that speaks SQL.
 * WAL, synchronous=FULL, a busy timeout, foreign keys; migrations by PRAGMA user_version with a backup
 * taken first; every state change and its history row in one SQLite transaction.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { PkgError } from 'egginst/core';
import type { Change, FileRecord } from 'egginst/core';

export const STATE_DIR = '.enpkg';
export const STATE_FILE = 'state.db';

/** Migrations, in order; the index + 1 is the user_version they lead to. Never edit a released one. */
const MIGRATIONS: readonly string[] = [
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
];

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

interface Row {
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

const toInstalled = (r: Row): InstalledRow => ({
  key: r.key,
  name: r.name,
  version: r.version,
  build: r.build,
  eggName: r.egg_name,
  sha256: r.sha256,
  repository: r.repository,
  marked: r.marked === 1,
  installedAt: r.installed_at,
  depends: JSON.parse(r.depends) as string[],
});

export class StateDb {
  private readonly db: Database.Database;
  private readonly q;

  /** Use openState(). */
  constructor(db: Database.Database) {
    this.db = db;
    this.q = {
      installed: db.prepare<[], Row>('SELECT * FROM packages ORDER BY key'),
      get: db.prepare<[string], Row>('SELECT * FROM packages WHERE key = ?'),
      files: db.prepare<
        [string],
        { path: string; kind: string; sha256: string | null; size: number | null; mode: number | null; target: string | null }
      >('SELECT path, kind, sha256, size, mode, target FROM files WHERE key = ? ORDER BY path'),
      putPackage: db.prepare(
        `INSERT OR REPLACE INTO packages (key, name, version, build, egg_name, sha256, repository, marked, installed_at, depends)
         VALUES (@key, @name, @version, @build, @eggName, @sha256, @repository, @marked, @installedAt, @depends)`,
      ),
      deleteFiles: db.prepare<[string]>('DELETE FROM files WHERE key = ?'),
      putFile: db.prepare('INSERT INTO files (key, path, kind, sha256, size, mode, target) VALUES (?, ?, ?, ?, ?, ?, ?)'),
      deletePackage: db.prepare<[string]>('DELETE FROM packages WHERE key = ?'),
      mark: db.prepare<[number, string]>('UPDATE packages SET marked = ? WHERE key = ?'),
      eggNames: db.prepare<[], { egg_name: string }>('SELECT egg_name FROM packages ORDER BY egg_name'),
      nextRevision: db.prepare<[], { n: number }>('SELECT COALESCE(MAX(id) + 1, 0) AS n FROM revisions'),
      latest: db.prepare<[], { n: number | null }>('SELECT MAX(id) AS n FROM revisions'),
      addRevision: db.prepare(
        'INSERT INTO revisions (id, time, command, user, kind, txn_id, changes, installed) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      revisions: db.prepare<[], RevisionRow>('SELECT * FROM revisions ORDER BY id'),
      revision: db.prepare<[number], RevisionRow>('SELECT * FROM revisions WHERE id = ?'),
      latestOfKind: db.prepare<[string], RevisionRow>('SELECT * FROM revisions WHERE kind = ? ORDER BY id DESC LIMIT 1'),
      byTxn: db.prepare<[string], { id: number }>('SELECT id FROM revisions WHERE txn_id = ?'),
      serial: db.prepare<[string], { serial: number }>('SELECT serial FROM serials WHERE repository = ?'),
      putEgg: db.prepare(
        `INSERT INTO eggs (egg_name, key, name, version, build, sha256, repository, depends) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (egg_name) DO UPDATE SET sha256 = COALESCE(excluded.sha256, eggs.sha256), repository = COALESCE(excluded.repository, eggs.repository)`,
      ),
      egg: db.prepare<[string], EggRow>('SELECT * FROM eggs WHERE egg_name = ?'),
      setMarked: db.prepare<[number, string]>('UPDATE packages SET marked = ? WHERE key = ?'),
      putSerial: db.prepare('INSERT OR REPLACE INTO serials (repository, serial, accepted_at) VALUES (?, ?, ?)'),
      meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      putMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    };
  }

  installed(): InstalledRow[] {
    return this.q.installed.all().map(toInstalled);
  }

  get(key: string): InstalledRow | undefined {
    const r = this.q.get.get(key);
    return r ? toInstalled(r) : undefined;
  }

  files(key: string): FileRecord[] {
    return this.q.files.all(key).map((f) => {
      const rec: FileRecord = { path: f.path, kind: f.kind as FileRecord['kind'] };
      if (f.sha256 !== null) rec.sha256 = f.sha256;
      if (f.size !== null) rec.size = f.size;
      if (f.mode !== null) rec.mode = f.mode;
      if (f.target !== null) rec.target = f.target;
      return rec;
    });
  }

  revisions(): Revision[] {
    return this.q.revisions.all().map(toRevision);
  }

  revision(id: number): Revision | undefined {
    const r = this.q.revision.get(id);
    return r ? toRevision(r) : undefined;
  }

  /** The newest revision of one kind. */
  latestRevisionOfKind(kind: RevisionKind): Revision | undefined {
    const r = this.q.latestOfKind.get(kind);
    return r ? toRevision(r) : undefined;
  }

  /** The newest revision number; undefined before the first. */
  latestRevision(): number | undefined {
    return this.q.latest.get()?.n ?? undefined;
  }

  /** The revision a transaction of egginst was recorded as, if it was. */
  revisionOfTransaction(txnId: string): number | undefined {
    return this.q.byTxn.get(txnId)?.id;
  }

  /** An egg that was installed here at some revision: what revert needs to find it again. */
  egg(eggName: string): EggRecord | undefined {
    const r = this.q.egg.get(eggName);
    return (
      r && {
        eggName: r.egg_name,
        key: r.key,
        name: r.name,
        version: r.version,
        build: r.build,
        sha256: r.sha256,
        repository: r.repository,
        depends: JSON.parse(r.depends) as string[],
      }
    );
  }

  /** Change whether packages count as asked for by the user (no files change, no revision). */
  setMarked(marks: readonly { key: string; marked: boolean }[]): void {
    this.db.transaction(() => {
      for (const m of marks) this.q.setMarked.run(m.marked ? 1 : 0, m.key);
    })();
  }

  meta(key: string): string | undefined {
    return this.q.meta.get(key)?.value;
  }

  setMeta(key: string, value: string): void {
    this.q.putMeta.run(key, value);
  }

  acceptedSerial(repository: string): number | undefined {
    return this.q.serial.get(repository)?.serial;
  }

  acceptSerial(repository: string, serial: number): void {
    this.q.putSerial.run(repository, serial, new Date().toISOString());
  }

  /** Record a state change and its revision in one SQLite transaction. Returns the revision number. */
  commit(input: CommitInput): number {
    const time = input.time ?? new Date().toISOString();
    const run = this.db.transaction((): number => {
      for (const key of input.remove) this.q.deletePackage.run(key);
      for (const p of input.put) {
        this.q.putPackage.run({
          key: p.key,
          name: p.name,
          version: p.version,
          build: p.build,
          eggName: p.eggName,
          sha256: p.sha256,
          repository: p.repository,
          marked: p.marked ? 1 : 0,
          installedAt: time,
          depends: JSON.stringify(p.depends),
        });
        this.q.putEgg.run(p.eggName, p.key, p.name, p.version, p.build, p.sha256, p.repository, JSON.stringify(p.depends));
        this.q.deleteFiles.run(p.key);
        for (const f of p.files)
          this.q.putFile.run(p.key, f.path, f.kind, f.sha256 ?? null, f.size ?? null, f.mode ?? null, f.target ?? null);
      }
      for (const m of input.mark ?? []) this.q.mark.run(m.marked ? 1 : 0, m.key);
      const id = this.q.nextRevision.get()!.n;
      const installed = input.installed ?? this.q.eggNames.all().map((r) => r.egg_name);
      this.q.addRevision.run(
        id,
        time,
        input.command,
        input.user,
        input.kind,
        input.txnId ?? null,
        JSON.stringify(input.changes),
        JSON.stringify(installed),
      );
      return id;
    });
    return run.immediate();
  }

  close(): void {
    this.db.close();
  }
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

interface EggRow {
  egg_name: string;
  key: string;
  name: string;
  version: string;
  build: number;
  sha256: string | null;
  repository: string | null;
  depends: string;
}

interface RevisionRow {
  id: number;
  time: string;
  command: string;
  user: string;
  kind: string;
  txn_id: string | null;
  changes: string;
  installed: string;
}

const toRevision = (r: RevisionRow): Revision => ({
  id: r.id,
  time: r.time,
  command: r.command,
  user: r.user,
  kind: r.kind as RevisionKind,
  txnId: r.txn_id,
  changes: JSON.parse(r.changes) as Change[],
  installed: JSON.parse(r.installed) as string[],
});

let binding: string | undefined;

/** better-sqlite3's compiled addon, found directly (its default, the bindings package, stats a dozen paths). */
function nativeBinding(): string | undefined {
  if (binding === undefined) {
    try {
      binding = createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
    } catch {
      binding = '';
    }
  }
  return binding || undefined;
}

export function statePath(prefix: string): string {
  return join(prefix, STATE_DIR, STATE_FILE);
}

/**
 * Open (creating on first use) the state database of a prefix, migrating it to the current schema.
 * A database from a newer enpkg is refused rather than guessed at.
 */
export function openState(prefix: string): StateDb {
  const path = statePath(prefix);
  mkdirSync(join(prefix, STATE_DIR), { recursive: true });
  const fresh = !existsSync(path);
  let db: Database.Database;
  try {
    db = new Database(path, { nativeBinding: nativeBinding() });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
  } catch (e) {
    throw new PkgError('STATE_UNREADABLE', `cannot open the state database ${path}: ${(e as Error).message}`, {
      hint: 'check its permissions; if it is corrupt, restore it from a state.db.bak-* beside it',
      cause: e,
    });
  }
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version > MIGRATIONS.length) {
    db.close();
    throw new PkgError(
      'STATE_TOO_NEW',
      `the state database ${path} was written by a newer enpkg (schema ${version}; this one knows ${MIGRATIONS.length})`,
      {
        hint: 'use the newer enpkg, or `enpkg self-update`',
      },
    );
  }
  if (version < MIGRATIONS.length) {
    if (!fresh) {
      // Fold the WAL into the main file first, so that the copy is the whole database.
      db.pragma('wal_checkpoint(TRUNCATE)');
      copyFileSync(path, `${path}.bak-v${version}`);
    }
    db.transaction(() => {
      for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]!);
      db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  }
  return new StateDb(db);
}
