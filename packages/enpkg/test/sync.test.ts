import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { committedPayloads, runTransaction } from 'egginst';
import { openState } from '../src/state/db.js';
import { reconcile, type TxnPayload } from '../src/state/sync.js';
import { fixtureEgg } from './repo-helpers.js';

const egg = (name: string): string => fixtureEgg(`${name}.egg`);

function prefix(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'sync-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('revision 0 is the prefix as first found; egginst changes become an external revision', async (t) => {
  const p = prefix(t);
  await runTransaction(
    [
      { kind: 'install', eggPath: egg('upg-1.0-1') },
      { kind: 'install', eggPath: egg('data-1.0-1') },
    ],
    { prefix: p, durable: false },
  );
  const state = openState(p);
  try {
    const first = reconcile(state, p, { user: 'me' });
    assert.equal(first.drift, null);
    assert.equal(state.latestRevision(), 0);
    assert.deepEqual(state.revision(0)!.installed, ['data-1.0-1.egg', 'upg-1.0-1.egg']);
    assert.ok(state.files('upg').some((f) => f.path === 'bin/upg-tool' && f.sha256?.length === 64));
    assert.equal(reconcile(state, p, { user: 'me' }).drift, null, 'nothing changed, nothing recorded');

    await runTransaction(
      [
        { kind: 'install', eggPath: egg('upg-2.0-1') },
        { kind: 'remove', key: 'data' },
      ],
      { prefix: p, durable: false },
    );
    const second = reconcile(state, p, { user: 'me' });
    assert.equal(second.drift, 1);
    const rev = state.revision(1)!;
    assert.equal(rev.kind, 'external');
    assert.deepEqual(rev.changes.map((c) => `${c.kind} ${c.key}`).sort(), ['remove data', 'update upg']);
    assert.deepEqual(
      state.installed().map((r) => `${r.key} ${r.version}`),
      ['upg 2.0'],
    );
  } finally {
    state.close();
  }
});

test('a transaction committed by egginst but not yet recorded is recorded from its payload, once', async (t) => {
  const p = prefix(t);
  const state = openState(p);
  try {
    reconcile(state, p, { user: 'me' });
    const payload: TxnPayload = {
      kind: 'transaction',
      command: 'enpkg install upg',
      user: 'me',
      packages: { upg: { sha256: 'f'.repeat(64), repository: 'main', depends: [], marked: true } },
    };
    // As if enpkg died right after egginst's commit mark: the payload waits in the prefix.
    await runTransaction([{ kind: 'install', eggPath: egg('upg-1.0-1') }], { prefix: p, durable: false, payload });
    assert.equal(committedPayloads(p).length, 1);
    const r = reconcile(state, p, { user: 'me' });
    assert.deepEqual(r.recorded, [1]);
    assert.equal(r.drift, null);
    const rev = state.revision(1)!;
    assert.equal(rev.command, 'enpkg install upg');
    assert.equal(state.get('upg')!.repository, 'main');
    assert.deepEqual(committedPayloads(p), []);
    assert.deepEqual(reconcile(state, p, { user: 'me' }).recorded, []);
  } finally {
    state.close();
  }
});

test("Enstaller's enpkg.hist is imported on first use, then the prefix as found", async (t) => {
  const p = prefix(t);
  await runTransaction([{ kind: 'install', eggPath: egg('upg-2.0-1') }], { prefix: p, durable: false });
  writeFileSync(
    join(p, 'enpkg.hist'),
    '==> 2011-08-01 21:17:22 CDT <==\nappinst-2.1.0-1.egg\nbasemap-1.0.1-1.egg\n' +
      '==> 2011-08-01 22:38:37 CDT <==\n-basemap-1.0.1-1.egg\n+basemap-1.0.2-1.egg\n+numpy-1.6.1-2.egg\n',
  );
  const state = openState(p);
  try {
    reconcile(state, p, { user: 'me' });
    const revs = state.revisions();
    assert.deepEqual(
      revs.map((r) => [r.id, r.kind]),
      [
        [0, 'import'],
        [1, 'import'],
        [2, 'import'],
      ],
    );
    assert.deepEqual(revs[0]!.installed, ['appinst-2.1.0-1.egg', 'basemap-1.0.1-1.egg']);
    assert.deepEqual(revs[1]!.installed, ['appinst-2.1.0-1.egg', 'basemap-1.0.2-1.egg', 'numpy-1.6.1-2.egg']);
    assert.deepEqual(
      revs[1]!.changes.map((c) => `${c.kind} ${c.kind === 'update' ? c.to.eggName : c.eggName}`),
      ['remove basemap-1.0.1-1.egg', 'install basemap-1.0.2-1.egg', 'install numpy-1.6.1-2.egg'],
    );
    assert.deepEqual(revs[2]!.installed, ['upg-2.0-1.egg'], 'the last revision is what is really installed');
  } finally {
    state.close();
  }
});
