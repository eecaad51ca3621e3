/**
 * enpkg's operations through the library, with no command line: install, update, revert, remove,
 * the reporter's events, the confirm callback, and an abort signal.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import {
  history,
  install,
  listPackages,
  loadConfig,
  type OperationOptions,
  PkgError,
  publishIndex,
  type ReportEvent,
  remove,
  revert,
  update,
} from 'enpkg';
import { fixturePath, tempDir, treeHash } from './helpers/index.js';

async function world(t: TestContext): Promise<{ prefix: string; cache: string; base: () => OperationOptions; events: ReportEvent[] }> {
  const root = await tempDir(t, 'enpkg-ops-');
  const repo = join(root, 'repo');
  const prefix = join(root, 'prefix');
  const cache = join(root, 'cache');
  mkdirSync(repo);
  for (const e of ['app-1.0.0-1', 'app-1.1.0-1', 'libfoo-1.0.0-1', 'libfoo-1.1.0-1', 'libbar-2.0-1', 'data-1.0-1']) {
    copyFileSync(fixturePath('eggs', `${e}.egg`), join(repo, `${e}.egg`));
  }
  await publishIndex(repo);
  const env = { HOME: root, XDG_CONFIG_HOME: join(root, 'config'), XDG_CACHE_HOME: cache };
  const config = loadConfig({ prefix, repos: [repo], env, home: root });
  const events: ReportEvent[] = [];
  return {
    prefix,
    cache,
    events,
    base: () => ({ config, command: 'test', reporter: { report: (e) => events.push(e) } }),
  };
}

const names = (packages: readonly { name: string; version: string; build: number }[]): string[] =>
  packages.map((p) => `${p.name} ${p.version}-${p.build}`);

test('install, update and revert through the library, with plain data back and events reported', async (t) => {
  const w = await world(t);
  const installed = await install({ ...w.base(), requirements: ['app 1.0.0'] });
  assert.equal(installed.outcome, 'done');
  assert.equal(installed.revision, 1);
  assert.deepEqual(
    installed.plan.actions.map((a) => a.kind),
    ['install', 'install', 'install'],
  );
  assert.ok(
    w.events.some((e) => e.type === 'download'),
    'downloads are reported',
  );
  assert.ok(
    w.events.some((e) => e.type === 'install' && e.progress.phase === 'stage'),
    'staging is reported',
  );
  assert.ok(existsSync(join(w.prefix, 'EGG-INFO', 'app')));

  const updated = await update({ ...w.base(), names: ['app'] });
  assert.equal(updated.revision, 2);
  assert.deepEqual(names((await listPackages(w.base())).packages), ['app 1.1.0-1', 'libbar 2.0-1', 'libfoo 1.1.0-1']);

  const reverted = await revert({ ...w.base(), revision: 1 });
  assert.equal(reverted.revision, 3);
  assert.deepEqual(names((await listPackages(w.base())).packages), ['app 1.0.0-1', 'libbar 2.0-1', 'libfoo 1.0.0-1']);
  const kinds = (await history(w.base())).revisions.map((r) => r.kind);
  assert.deepEqual(kinds, ['import', 'transaction', 'transaction', 'revert']);

  const removed = await remove({ ...w.base(), names: ['app'] });
  assert.equal(removed.revision, 4);
  assert.deepEqual(names((await listPackages(w.base())).packages), []);
});

test('the confirm callback sees the plan; a no changes nothing; a dry run plans only', async (t) => {
  const w = await world(t);
  const before = await treeHash(w.prefix).catch(() => null);
  let asked = 0;
  const declined = await install({
    ...w.base(),
    requirements: ['app'],
    confirm: async (q) => {
      asked++;
      assert.equal(q.kind, 'transaction');
      if (q.kind === 'transaction') assert.equal(q.plan.actions.length, 3);
      return false;
    },
  });
  assert.equal(asked, 1);
  assert.equal(declined.outcome, 'declined');
  assert.equal(declined.revision, null);
  const dry = await install({ ...w.base(), requirements: ['app'], dryRun: true });
  assert.equal(dry.outcome, 'dry-run');
  assert.equal(dry.plan.actions.length, 3);
  assert.deepEqual((await listPackages(w.base())).packages, []);
  assert.equal(
    existsSync(join(w.cache, 'enpkg', 'eggs')) ? readdirSync(join(w.cache, 'enpkg', 'eggs')).length : 0,
    0,
    'nothing was fetched',
  );
  if (before !== null) assert.equal(await treeHash(w.prefix), before);
});

test('an aborted signal stops the operation with INTERRUPTED before anything changes', async (t) => {
  const w = await world(t);
  const controller = new AbortController();
  controller.abort();
  await assert.rejects(
    install({ ...w.base(), requirements: ['app'], signal: controller.signal }),
    (e: unknown) => e instanceof PkgError && e.code === 'INTERRUPTED',
  );
  assert.deepEqual((await listPackages(w.base())).packages, []);
});

test('reinstall and no-deps are planner inputs', async (t) => {
  const w = await world(t);
  await install({ ...w.base(), requirements: ['app 1.0.0'] });
  const again = await install({ ...w.base(), requirements: ['app 1.0.0'], reinstall: 'named', dryRun: true });
  assert.deepEqual(
    again.plan.actions.map((a) => (a.kind === 'update' ? `${a.kind} ${a.from.key} ${a.to.version}` : a.kind)),
    ['update app 1.0.0'],
  );
  const alone = await update({ ...w.base(), names: ['app'], noDeps: true, dryRun: true });
  assert.deepEqual(
    alone.plan.actions.map((a) => (a.kind === 'update' ? `${a.from.key} -> ${a.to.version}` : a.kind)),
    ['app -> 1.1.0'],
  );
});

test('an empty prefix or configuration path is refused by the library too, not taken as "unset"', () => {
  for (const opts of [{ prefix: '' }, { prefix: '  ' }, { configFile: '' }]) {
    assert.throws(
      () => loadConfig({ ...opts, env: { ENPKG_PREFIX: '/somewhere/else' } }),
      (e: unknown) => e instanceof PkgError && e.code === 'USAGE' && /cannot be empty/.test(e.message),
    );
  }
});
