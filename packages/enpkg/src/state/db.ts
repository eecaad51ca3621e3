/**
 * Installed state and history: `<prefix>/.enpkg/state.db`. Only state/ speaks SQL (the schema: schema.ts).
 * WAL, synchronous=FULL, a busy timeout, foreign keys; migrations by PRAGMA user_version with a backup
 * taken first; every state change and its history row in one SQLite transaction.
 *
 * Every failure leaves here as a PkgError naming the file (stateError: read-only, locked, full,
 * damaged), and a row that does not read back as what enpkg wrote is STATE_CORRUPT naming its table
 * and its package or revision. `beginWrite` takes the write lock before a caller changes the prefix.
 */
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { FileRecord } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { stateError } from './errors.js';
import { MIGRATIONS, type EggRow, type RevisionRow, type Row, toEgg, toFiles, toInstalled, toRevision } from './schema.js';
import type { CommitInput, EggRecord, InstalledRow, Revision, RevisionKind, StateWrite } from './types.js';

export type * from './types.js';

/** The meta key beginWrite writes at once (when enpkg last began a write). */
const LAST_WRITE = 'last_write_began';
export { stateError } from './errors.js';

export const STATE_DIR = '.enpkg';
export const STATE_FILE = 'state.db';

export class StateDb {
  /** The database file. */
  readonly path: string;
  private readonly db: Database.Database;
  private readonly q;

  /** Use openState(). */
  constructor(db: Database.Database, path: string) {
    this.db = db;
    this.path = path;
    this.q = {
      installed: db.prepare<[], Row>('SELECT * FROM packages ORDER BY key'),
      get: db.prepare<[string], Row>('SELECT * FROM packages WHERE key = ?'),
      files: db.prepare<[string], { files: string }>('SELECT files FROM package_files WHERE key = ?'),
      putPackage: db.prepare(
        `INSERT OR REPLACE INTO packages (key, name, version, build, egg_name, sha256, repository, marked, installed_at, depends)
         VALUES (@key, @name, @version, @build, @eggName, @sha256, @repository, @marked, @installedAt, @depends)`,
      ),
      putFiles: db.prepare<[string, string]>('INSERT OR REPLACE INTO package_files (key, files) VALUES (?, ?)'),
      deletePackage: db.prepare<[string]>('DELETE FROM packages WHERE key = ?'),
      mark: db.prepare<[number, string]>('UPDATE packages SET marked = ? WHERE key = ?'),
      eggNames: db.prepare<[], { egg_name: string }>('SELECT egg_name FROM packages ORDER BY egg_name'),
      nextRevision: db.prepare<[], { n: number }>('SELECT COALESCE(MAX(id) + 1, 0) AS n FROM revisions'),
      latest: db.prepare<[], { n: number | null }>('SELECT MAX(id) AS n FROM revisions'),
      addRevision: db.prepare(
        'INSERT INTO revisions (id, time, command, user, kind, txn_id, changes, installed, marked) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      ),
      markedKeys: db.prepare<[], { key: string }>('SELECT key FROM packages WHERE marked = 1 ORDER BY key'),
      revisions: db.prepare<[], RevisionRow>('SELECT * FROM revisions ORDER BY id'),
      revision: db.prepare<[number], RevisionRow>('SELECT * FROM revisions WHERE id = ?'),
      latestOfKind: db.prepare<[string], RevisionRow>('SELECT * FROM revisions WHERE kind = ? ORDER BY id DESC LIMIT 1'),
      byTxn: db.prepare<[string], { id: number }>('SELECT id FROM revisions WHERE txn_id = ?'),
      serial: db.prepare<[string], { serial: number }>('SELECT serial FROM serials WHERE repository = ?'),
      putEgg: db.prepare(
        `INSERT INTO eggs (egg_name, key, name, version, build, sha256, repository, depends) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (egg_name) DO UPDATE SET sha256 = COALESCE(excluded.sha256, eggs.sha256),
           repository = COALESCE(excluded.repository, eggs.repository)`,
      ),
      egg: db.prepare<[string], EggRow>('SELECT * FROM eggs WHERE egg_name = ?'),
      setMarked: db.prepare<[number, string]>('UPDATE packages SET marked = ? WHERE key = ?'),
      putSerial: db.prepare('INSERT OR REPLACE INTO serials (repository, serial, accepted_at) VALUES (?, ?, ?)'),
      meta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      putMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
    };
  }

  /** Run `fn` on the database; any failure becomes a PkgError naming the file (stateError). */
  private guard<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      throw stateError(e, this.path, doing);
    }
  }

  installed(): InstalledRow[] {
    return this.guard('reading the installed packages', () => this.q.installed.all().map((r) => toInstalled(this.path, r)));
  }

  get(key: string): InstalledRow | undefined {
    return this.guard('reading an installed package', () => {
      const r = this.q.get.get(key);
      return r ? toInstalled(this.path, r) : undefined;
    });
  }

  /** An installed package's files, by path (none for a package not installed). */
  files(key: string): FileRecord[] {
    const row = this.guard('reading installed files', () => this.q.files.get(key));
    return row ? toFiles(this.path, key, row.files) : [];
  }

  revisions(): Revision[] {
    return this.guard('reading the history', () => this.q.revisions.all().map((r) => toRevision(this.path, r)));
  }

  revision(id: number): Revision | undefined {
    return this.guard('reading the history', () => {
      const r = this.q.revision.get(id);
      return r ? toRevision(this.path, r) : undefined;
    });
  }

  /** The newest revision of one kind. */
  latestRevisionOfKind(kind: RevisionKind): Revision | undefined {
    return this.guard('reading the history', () => {
      const r = this.q.latestOfKind.get(kind);
      return r ? toRevision(this.path, r) : undefined;
    });
  }

  /** The newest revision number; undefined before the first. */
  latestRevision(): number | undefined {
    return this.guard('reading the history', () => this.q.latest.get()?.n ?? undefined);
  }

  /** The revision a transaction of egginst was recorded as, if it was. */
  revisionOfTransaction(txnId: string): number | undefined {
    return this.guard('reading the history', () => this.q.byTxn.get(txnId)?.id);
  }

  /** An egg that was installed here at some revision: what revert needs to find it again. */
  egg(eggName: string): EggRecord | undefined {
    return this.guard('reading the eggs of earlier revisions', () => {
      const r = this.q.egg.get(eggName);
      return r ? toEgg(this.path, r) : undefined;
    });
  }

  /** Change whether packages count as asked for by the user (no files change, no revision). */
  setMarked(marks: readonly { key: string; marked: boolean }[]): void {
    this.guard('marking packages', () =>
      this.db.transaction(() => {
        for (const m of marks) this.q.setMarked.run(m.marked ? 1 : 0, m.key);
      })(),
    );
  }

  meta(key: string): string | undefined {
    return this.guard('reading what it knows of the prefix', () => this.q.meta.get(key)?.value);
  }

  setMeta(key: string, value: string): void {
    this.guard('recording what it knows of the prefix', () => this.q.putMeta.run(key, value));
  }

  acceptedSerial(repository: string): number | undefined {
    return this.guard('reading the accepted index serials', () => this.q.serial.get(repository)?.serial);
  }

  acceptSerial(repository: string, serial: number): void {
    this.guard('recording an accepted index serial', () => this.q.putSerial.run(repository, serial, new Date().toISOString()));
  }

  /**
   * Take the database's write lock now (BEGIN IMMEDIATE, waiting up to the busy timeout, and one small
   * write), before the caller changes anything else: a database another program holds is STATE_BUSY
   * here, a read-only one STATE_READONLY, while nothing has moved yet. Everything recorded until
   * `commit()` (commit, setMeta, acceptSerial...) joins this one SQLite transaction, so a revision and
   * its state change still land together or not at all.
   */
  beginWrite(): StateWrite {
    if (this.db.inTransaction) throw new PkgError(EnpkgErrorCodes.INTERNAL, `a write to the state database ${this.path} is already open`);
    this.guard('taking its write lock', () => {
      this.db.exec('BEGIN IMMEDIATE');
      try {
        // A write now, so that a read-only file is found before the caller moves anything (BEGIN alone succeeds).
        this.q.putMeta.run(LAST_WRITE, new Date().toISOString());
      } catch (e) {
        this.db.exec('ROLLBACK');
        throw e;
      }
    });
    let open = true;
    return {
      commit: () => {
        if (!open) throw new PkgError(EnpkgErrorCodes.INTERNAL, `the write to the state database ${this.path} is no longer open`);
        this.guard('committing', () => this.db.exec('COMMIT'));
        open = false;
      },
      release: () => {
        if (!open) return;
        open = false;
        if (this.db.inTransaction) this.guard('rolling back', () => this.db.exec('ROLLBACK'));
      },
    };
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
        this.q.putFiles.run(p.key, JSON.stringify(p.files));
      }
      for (const m of input.mark ?? []) this.q.mark.run(m.marked ? 1 : 0, m.key);
      const id = this.q.nextRevision.get()!.n;
      const installed = input.installed ?? this.q.eggNames.all().map((r) => r.egg_name);
      // Imported history says nothing of marks; otherwise they are the packages table's, now.
      const marked = input.installed ? null : JSON.stringify(this.q.markedKeys.all().map((r) => r.key));
      this.q.addRevision.run(
        id,
        time,
        input.command,
        input.user,
        input.kind,
        input.txnId ?? null,
        JSON.stringify(input.changes),
        JSON.stringify(installed),
        marked,
      );
      return id;
    });
    // Inside an open beginWrite, better-sqlite3 makes this a savepoint of that transaction.
    return this.guard('recording a revision', () => run.immediate());
  }

  close(): void {
    this.guard('closing', () => this.db.close());
  }
}

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

export interface OpenStateOptions {
  /** How long a statement waits for another program's lock before STATE_BUSY (default 10 s). */
  readonly busyTimeoutMs?: number;
}

/**
 * Open (creating on first use) the state database of a prefix, migrating it to the current schema.
 * A database from a newer enpkg is refused rather than guessed at.
 */
export function openState(prefix: string, opts: OpenStateOptions = {}): StateDb {
  const path = statePath(prefix);
  let db: Database.Database | undefined;
  try {
    mkdirSync(join(prefix, STATE_DIR), { recursive: true });
    const fresh = !existsSync(path);
    db = new Database(path, { nativeBinding: nativeBinding() });
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? 10_000))}`);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new PkgError(
        EnpkgErrorCodes.STATE_TOO_NEW,
        `the state database ${path} was written by a newer enpkg (schema ${version}; this one knows ${MIGRATIONS.length})`,
        { hint: 'use the newer enpkg, or `enpkg self-update`', details: { path } },
      );
    }
    if (version < MIGRATIONS.length) {
      if (!fresh) {
        // Fold the WAL into the main file first, so that the copy is the whole database.
        db.pragma('wal_checkpoint(TRUNCATE)');
        copyFileSync(path, `${path}.bak-v${version}`);
      }
      const d = db;
      d.transaction(() => {
        for (let v = version; v < MIGRATIONS.length; v++) d.exec(MIGRATIONS[v]!);
        d.pragma(`user_version = ${MIGRATIONS.length}`);
      }).immediate();
    }
    return new StateDb(db, path);
  } catch (e) {
    try {
      db?.close();
    } catch {
      // the error that matters is the first one
    }
    throw stateError(e, path, 'opening it');
  }
}
