import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { PkgError } from 'egginst';
import { openState, statePath, type PackageWrite } from '../src/state/db.js';

function prefix(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'state-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const pkg = (key: string, version: string, extra: Partial<PackageWrite> = {}): PackageWrite => ({
  key,
  name: key,
  version,
  build: 1,
  eggName: `${key}-${version}-1.egg`,
  sha256: 'a'.repeat(64),
  repository: 'main',
  marked: true,
  depends: [],
  files: [{ path: `lib/${key}.py`, kind: 'file', sha256: 'b'.repeat(64), size: 3, mode: 0o644 }],
  ...extra,
});

test('a state change and its revision are recorded together; revisions number from 0', (t) => {
  const p = prefix(t);
  const db = openState(p);
  try {
    const r0 = db.commit({
      kind: 'transaction',
      command: 'enpkg install a',
      user: 'me',
      txnId: 'txn-1',
      changes: [],
      put: [pkg('a', '1.0'), pkg('b', '2.0', { marked: false })],
      remove: [],
    });
    assert.equal(r0, 0);
    const r1 = db.commit({
      kind: 'transaction',
      command: 'enpkg remove b',
      user: 'me',
      changes: [],
      put: [pkg('a', '1.1')],
      remove: ['b'],
    });
    assert.equal(r1, 1);
    assert.deepEqual(
      db.installed().map((r) => [r.key, r.version, r.marked]),
      [['a', '1.1', true]],
    );
    assert.deepEqual(
      db.files('a').map((f) => f.path),
      ['lib/a.py'],
    );
    assert.deepEqual(db.files('b'), [], 'files go with their package');
    assert.deepEqual(db.revision(0)!.installed, ['a-1.0-1.egg', 'b-2.0-1.egg']);
    assert.deepEqual(db.revision(1)!.installed, ['a-1.1-1.egg']);
    assert.equal(db.revisionOfTransaction('txn-1'), 0);
  } finally {
    db.close();
  }
});

test('a failing commit changes nothing', (t) => {
  const p = prefix(t);
  const db = openState(p);
  try {
    db.commit({ kind: 'transaction', command: 'x', user: 'me', txnId: 'txn-1', changes: [], put: [pkg('a', '1.0')], remove: [] });
    // The same transaction id twice violates a constraint after the package rows were written.
    assert.throws(() =>
      db.commit({ kind: 'transaction', command: 'y', user: 'me', txnId: 'txn-1', changes: [], put: [pkg('c', '1.0')], remove: ['a'] }),
    );
    assert.deepEqual(
      db.installed().map((r) => r.key),
      ['a'],
    );
    assert.equal(db.revisions().length, 1);
  } finally {
    db.close();
  }
});

test('serials are remembered per repository', (t) => {
  const db = openState(prefix(t));
  try {
    assert.equal(db.acceptedSerial('main'), undefined);
    db.acceptSerial('main', 42);
    assert.equal(db.acceptedSerial('main'), 42);
  } finally {
    db.close();
  }
});

test('the database is WAL with synchronous=FULL; a newer schema is refused; migration keeps a backup', (t) => {
  const p = prefix(t);
  openState(p).close();
  const raw = new Database(statePath(p));
  assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  raw.close();
  // A database from before the first migration (user_version 0) is migrated after a backup.
  rmSync(statePath(p));
  const old = new Database(statePath(p));
  old.exec('CREATE TABLE legacy (x)');
  old.close();
  openState(p).close();
  assert.ok(existsSync(`${statePath(p)}.bak-v0`), 'a backup was taken before migrating');
  const newer = new Database(statePath(p));
  newer.pragma('user_version = 99');
  newer.close();
  assert.throws(
    () => openState(p),
    (e: unknown) => e instanceof PkgError && e.code === 'STATE_TOO_NEW',
  );
});
