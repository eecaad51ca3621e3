/**
 * The state database when things go wrong: rows that do not parse, a read-only prefix or file,
 * another program holding the write lock (taken up front with beginWrite, before the prefix moves),
 * a damaged file; and packages whose names are Object.prototype's (`__proto__`) recorded right.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { acknowledgeCommitted, committedPayloads, listInstalled, PkgError, runTransaction } from 'egginst';
import yazl from 'yazl';
import { EnpkgErrorCodes } from '../src/errors.js';
import { openState, stateError, statePath } from '../src/state/db.js';
import { noteRecordsInSync, payloadPackages, reconcile, recordTransaction, txnPayload, type PackageMeta } from '../src/state/sync.js';
import { snapshot, tmp } from './repo-helpers.js';
import { openTo, runUnprivileged } from './unprivileged.js';

const DB_MODULE = new URL('../src/state/db.js', import.meta.url).href;

const fileHash = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A minimal valid egg `<name>-1.0-1.egg` with one data file. */
async function writeEgg(dir: string, name: string, depends: string[] = []): Promise<string> {
  const path = join(dir, `${name}-1.0-1.egg`);
  const zip = new yazl.ZipFile();
  const spec = [
    "metadata_version = '1.1'",
    `name = '${name}'`,
    "version = '1.0'",
    'build = 1',
    '',
    'arch = None',
    'platform = None',
    'osdist = None',
    'python = None',
    `packages = [${depends.map((d) => `'${d}'`).join(', ')}]`,
    '',
  ].join('\n');
  const mtime = new Date(2020, 0, 1);
  zip.addBuffer(Buffer.from(spec), 'EGG-INFO/spec/depend', { mtime });
  zip.addBuffer(Buffer.from(`${name}\n`), `EGG-INFO/prefix/share/${name}/data.txt`, { mtime });
  zip.end();
  const chunks: Buffer[] = [];
  for await (const c of zip.outputStream) chunks.push(c as Buffer);
  writeFileSync(path, Buffer.concat(chunks));
  return path;
}

/** A prefix with one recorded package `pkg` (revision 0 the empty prefix, revision 1 the install). */
async function recordedPrefix(t: { after(fn: () => unknown): void }): Promise<{ dir: string; prefix: string }> {
  const dir = tmp(t, 'enpkg-state-');
  const prefix = join(dir, 'prefix');
  mkdirSync(prefix);
  const egg = await writeEgg(dir, 'pkg', ['dep']);
  const state = openState(prefix);
  try {
    reconcile(state, prefix, { user: 'me' });
    const payload = txnPayload({
      kind: 'transaction',
      command: 'enpkg install pkg',
      user: 'me',
      packages: new Map([['pkg', { sha256: 'a'.repeat(64), repository: 'main', depends: ['dep'], marked: true }]]),
    });
    await runTransaction([{ kind: 'install', eggPath: egg }], { prefix, durable: false, payload });
    for (const j of committedPayloads(prefix)) {
      recordTransaction(state, prefix, j);
      acknowledgeCommitted(prefix, j.id);
    }
    noteRecordsInSync(state, prefix);
  } finally {
    state.close();
  }
  return { dir, prefix };
}

/** Change state.db behind enpkg's back, as a hand edit or a damaged disk would. */
function tamper(prefix: string, sql: string): void {
  const db = new Database(statePath(prefix));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

function isCode(code: string, ...mentions: string[]): (e: unknown) => boolean {
  return (e: unknown) => {
    assert.ok(e instanceof PkgError, `not a PkgError: ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const m of mentions) assert.ok(e.message.includes(m), `${JSON.stringify(e.message)} does not name ${m}`);
    assert.ok(e.hint, 'it says what to do');
    return true;
  };
}

test('a packages row whose depends is not JSON is STATE_CORRUPT naming the table and the package; nothing is written', async (t) => {
  const { prefix } = await recordedPrefix(t);
  tamper(prefix, "UPDATE packages SET depends = '[\"dep\", oops' WHERE key = 'pkg'");
  const before = fileHash(statePath(prefix));
  const state = openState(prefix);
  try {
    assert.throws(() => state.installed(), isCode(EnpkgErrorCodes.STATE_CORRUPT, statePath(prefix), 'packages', 'package pkg', 'depends'));
    assert.throws(() => state.get('pkg'), isCode(EnpkgErrorCodes.STATE_CORRUPT, 'package pkg'));
  } finally {
    state.close();
  }
  assert.equal(fileHash(statePath(prefix)), before);
});

test('JSON of the wrong shape (an object for a list) is STATE_CORRUPT too', async (t) => {
  const { prefix } = await recordedPrefix(t);
  tamper(prefix, `UPDATE packages SET depends = '{"a": 1}' WHERE key = 'pkg'; UPDATE eggs SET depends = 'null'`);
  const state = openState(prefix);
  try {
    assert.throws(() => state.installed(), isCode(EnpkgErrorCodes.STATE_CORRUPT, 'package pkg', 'depends'));
    assert.throws(() => state.egg('pkg-1.0-1.egg'), isCode(EnpkgErrorCodes.STATE_CORRUPT, 'eggs', 'egg pkg-1.0-1.egg'));
  } finally {
    state.close();
  }
});

test('a revisions row whose installed or changes column does not parse is STATE_CORRUPT naming the revision', async (t) => {
  const { prefix } = await recordedPrefix(t);
  tamper(prefix, "UPDATE revisions SET installed = '[' WHERE id = 1; UPDATE revisions SET changes = 'x' WHERE id = 0");
  const before = fileHash(statePath(prefix));
  const state = openState(prefix);
  try {
    assert.throws(
      () => state.revision(1),
      isCode(EnpkgErrorCodes.STATE_CORRUPT, statePath(prefix), 'revisions', 'revision 1', 'installed'),
    );
    assert.throws(() => state.revisions(), isCode(EnpkgErrorCodes.STATE_CORRUPT, 'revision 0', 'changes'));
    assert.throws(() => state.latestRevisionOfKind('transaction'), isCode(EnpkgErrorCodes.STATE_CORRUPT, 'revision 1'));
  } finally {
    state.close();
  }
  assert.equal(fileHash(statePath(prefix)), before);
});

test('a state.db that is not a database is STATE_CORRUPT naming it, left as it was', (t) => {
  const prefix = tmp(t, 'enpkg-state-');
  mkdirSync(join(prefix, '.enpkg'));
  writeFileSync(statePath(prefix), 'this is not a database, just some text that is long enough to have a header'.repeat(10));
  const before = fileHash(statePath(prefix));
  assert.throws(() => openState(prefix), isCode(EnpkgErrorCodes.STATE_CORRUPT, statePath(prefix)));
  assert.equal(fileHash(statePath(prefix)), before);
});

test('acceptSerial and beginWrite on a read-only state.db are STATE_READONLY naming the file, which is unchanged', async (t) => {
  const { dir, prefix } = await recordedPrefix(t);
  const path = statePath(prefix);
  openTo(dir, join(prefix, '.enpkg'));
  chmodSync(join(prefix, '.enpkg'), 0o777);
  chmodSync(path, 0o444);
  const before = fileHash(path);
  const r = runUnprivileged(
    `const { openState } = await import(args[0]);
     const state = openState(args[1]);
     try { state.acceptSerial('repo-id', 7); } finally { state.close(); }`,
    [DB_MODULE, prefix],
  );
  assert.equal(r.ok, false, 'the write must fail');
  assert.equal(r.code, EnpkgErrorCodes.STATE_READONLY, r.message);
  assert.ok(r.message!.includes(path), r.message);
  assert.ok(r.hint?.includes('permissions'), r.hint);
  // beginWrite finds it before the caller moves anything (BEGIN IMMEDIATE alone would succeed).
  const w = runUnprivileged(
    `const { openState } = await import(args[0]);
     const state = openState(args[1]);
     try { state.beginWrite().release(); } finally { state.close(); }`,
    [DB_MODULE, prefix],
  );
  assert.equal(w.code, EnpkgErrorCodes.STATE_READONLY, w.message);
  assert.ok(w.message!.includes(path), w.message);
  assert.equal(fileHash(path), before);
});

test('a read-only prefix: opening the state is STATE_READONLY naming it, whether state.db exists or not', async (t) => {
  const { dir, prefix } = await recordedPrefix(t);
  openTo(dir, join(prefix, '.enpkg'));
  chmodSync(join(prefix, '.enpkg'), 0o555);
  const empty = join(dir, 'empty');
  mkdirSync(empty, { mode: 0o555 });
  const before = snapshot(prefix);
  const body = `const { openState } = await import(args[0]);
     const state = openState(args[1]);
     try { state.acceptSerial('repo-id', 7); } finally { state.close(); }`;
  for (const p of [prefix, empty]) {
    const r = runUnprivileged(body, [DB_MODULE, p]);
    assert.equal(r.ok, false);
    assert.equal(r.code, EnpkgErrorCodes.STATE_READONLY, r.message);
    assert.ok(r.message!.includes(statePath(p)), r.message);
  }
  chmodSync(join(prefix, '.enpkg'), 0o755);
  assert.deepEqual(snapshot(prefix), before);
  assert.equal(existsSync(join(empty, '.enpkg')), false);
});

test('another program holding the write lock: beginWrite is STATE_BUSY before anything moves', async (t) => {
  const { dir, prefix } = await recordedPrefix(t);
  const other = new Database(statePath(prefix));
  other.exec('BEGIN EXCLUSIVE');
  const state = openState(prefix, { busyTimeoutMs: 50 });
  const egg = await writeEgg(dir, 'more');
  try {
    const before = snapshot(prefix);
    // What execute does: the write lock first; egginst only once it is held.
    assert.throws(() => state.beginWrite(), isCode(EnpkgErrorCodes.STATE_BUSY, statePath(prefix)));
    assert.deepEqual(snapshot(prefix), before, 'the prefix did not change');
    // Any other write waits out the busy timeout, then says the same.
    assert.throws(() => state.acceptSerial('repo-id', 3), isCode(EnpkgErrorCodes.STATE_BUSY, statePath(prefix)));
    other.exec('ROLLBACK');

    const write = state.beginWrite();
    try {
      // Held: now the other program is the one that waits.
      other.pragma('busy_timeout = 0');
      assert.throws(() => other.exec('BEGIN IMMEDIATE'), /locked|busy/i);
      const payload = txnPayload({
        kind: 'transaction',
        command: 'enpkg install more',
        user: 'me',
        packages: new Map([['more', { sha256: 'b'.repeat(64), repository: 'main', depends: [], marked: false }]]),
      });
      await runTransaction([{ kind: 'install', eggPath: egg }], { prefix, durable: false, payload });
      const [journal] = committedPayloads(prefix);
      assert.equal(recordTransaction(state, prefix, journal!), 2);
      noteRecordsInSync(state, prefix);
      write.commit();
      acknowledgeCommitted(prefix, journal!.id);
    } finally {
      write.release();
    }
    assert.equal(state.get('more')?.repository, 'main');
    assert.equal(state.latestRevision(), 2);
    // Committed means on disk: a fresh connection sees it.
    assert.equal((other.prepare('SELECT COUNT(*) AS n FROM revisions').get() as { n: number }).n, 3);
  } finally {
    other.close();
    state.close();
  }
});

test('a write released without commit leaves no trace, and the revision is recorded on the next try', async (t) => {
  const { dir, prefix } = await recordedPrefix(t);
  const egg = await writeEgg(dir, 'more');
  const state = openState(prefix);
  try {
    const payload = txnPayload({ kind: 'transaction', command: 'enpkg install more', user: 'me', packages: new Map() });
    await runTransaction([{ kind: 'install', eggPath: egg }], { prefix, durable: false, payload });
    const [journal] = committedPayloads(prefix);
    const write = state.beginWrite();
    recordTransaction(state, prefix, journal!);
    write.release();
    assert.equal(state.latestRevision(), 1, 'rolled back');
    assert.equal(state.get('more'), undefined);
    // As the next run's reconciliation does.
    assert.deepEqual(reconcile(state, prefix, { user: 'me' }).recorded, [2]);
    assert.equal(state.get('more')?.marked, true);
  } finally {
    state.close();
  }
});

test('stateError: every SQLite failure becomes a PkgError with a code, naming the file', () => {
  const path = '/p/.enpkg/state.db';
  const cases: [string, string][] = [
    ['SQLITE_READONLY', EnpkgErrorCodes.STATE_READONLY],
    ['SQLITE_READONLY_DBMOVED', EnpkgErrorCodes.STATE_READONLY],
    ['SQLITE_BUSY', EnpkgErrorCodes.STATE_BUSY],
    ['SQLITE_BUSY_SNAPSHOT', EnpkgErrorCodes.STATE_BUSY],
    ['SQLITE_FULL', 'NO_SPACE'],
    ['SQLITE_CORRUPT', EnpkgErrorCodes.STATE_CORRUPT],
    ['SQLITE_NOTADB', EnpkgErrorCodes.STATE_CORRUPT],
    ['SQLITE_CANTOPEN', EnpkgErrorCodes.STATE_UNREADABLE],
    ['SQLITE_IOERR_WRITE', 'IO'],
  ];
  for (const [sqlite, code] of cases) {
    const e = stateError(Object.assign(new Error('database says no'), { code: sqlite }), path, 'recording a revision');
    assert.equal(e.code, code, sqlite);
    assert.ok(e.message.includes(path), e.message);
    assert.ok(e.hint, sqlite);
    assert.equal(e.details.code, sqlite);
  }
});

test('a package named __proto__ is recorded with its own marked flag, sha256 and repository', async (t) => {
  const dir = tmp(t, 'enpkg-state-');
  const prefix = join(dir, 'prefix');
  mkdirSync(prefix);
  const proto = await writeEgg(dir, '__proto__');
  const ctor = await writeEgg(dir, 'constructor');
  const state = openState(prefix);
  try {
    reconcile(state, prefix, { user: 'me' });
    const packages = new Map<string, PackageMeta>([
      ['__proto__', { sha256: 'c'.repeat(64), repository: 'protos', depends: ['x'], marked: false }],
      ['constructor', { sha256: 'd'.repeat(64), repository: 'ctors', depends: [], marked: false }],
    ]);
    const payload = txnPayload({ kind: 'transaction', command: 'enpkg install __proto__', user: 'me', packages });
    // Through the journal as egginst keeps it: JSON on disk.
    await runTransaction(
      [
        { kind: 'install', eggPath: proto },
        { kind: 'install', eggPath: ctor },
      ],
      { prefix, durable: false, payload },
    );
    assert.deepEqual(
      listInstalled(prefix)
        .map((p) => p.key)
        .sort(),
      ['__proto__', 'constructor'],
    );
    const [journal] = committedPayloads(prefix);
    assert.deepEqual([...payloadPackages(journal!.payload).keys()].sort(), ['__proto__', 'constructor']);
    recordTransaction(state, prefix, journal!);
    const row = state.get('__proto__')!;
    assert.equal(row.marked, false);
    assert.equal(row.sha256, 'c'.repeat(64));
    assert.equal(row.repository, 'protos');
    assert.deepEqual(row.depends, ['x']);
    const c = state.get('constructor')!;
    assert.deepEqual([c.marked, c.sha256, c.repository], [false, 'd'.repeat(64), 'ctors']);
  } finally {
    state.close();
  }
});

test('payloadPackages reads only own keys with checked values', () => {
  const parsed = JSON.parse('{"packages": {"__proto__": {"sha256": 5, "marked": "yes"}, "ok": {"sha256": "e", "marked": true}}}');
  const m = payloadPackages(parsed);
  assert.deepEqual([...m.keys()], ['__proto__', 'ok']);
  assert.deepEqual(m.get('__proto__'), { sha256: null, repository: null });
  assert.deepEqual(m.get('ok'), { sha256: 'e', repository: null, marked: true });
  assert.equal(m.get('toString'), undefined);
  assert.equal(payloadPackages({ packages: [] }).size, 0);
  assert.equal(payloadPackages(null).size, 0);
});
