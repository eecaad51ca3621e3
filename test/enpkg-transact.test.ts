/**
 * enpkg end to end over a local-directory repository built from the fixture eggs: install with
 * dependencies, upgrade, remove with reverse dependencies, update --all, history and revert, verify,
 * freeze and install -r, conflicts, a failing script in a five-package transaction, drift from plain
 * egginst, Enstaller's spellings, two processes on one prefix.
 */
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fixturePath, runEgginst, runEnpkg, setup, treeHash, type Setup } from './helpers/index.js';
import { startNginx } from './helpers/nginx.js';

interface Ok {
  ok: boolean;
  revision: number | null;
  actions: { kind: string; package?: string; from?: string; to?: string }[];
  error?: { code: string; message: string };
}

async function ok(s: Setup, args: string[]): Promise<Ok> {
  const r = await s.enpkg([...args, '--json', '-y']);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
  return r.json as Ok;
}

async function listed(s: Setup): Promise<string[]> {
  const r = await s.enpkg(['list', '--json']);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  return (r.json as { packages: { key: string; version: string; build: number; marked: boolean }[] }).packages.map(
    (p) => `${p.key} ${p.version}-${p.build}${p.marked ? '' : ' (auto)'}`,
  );
}

const actions = (o: Ok): string[] => o.actions.map((a) => (a.kind === 'update' ? `update ${a.from} -> ${a.to}` : `${a.kind} ${a.package}`));

test('install with dependencies, upgrade, remove with reverse dependencies and unneeded ones', async (t) => {
  const s = await setup(t);
  const dry = await s.enpkg(['install', 'app-1.0.0', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  assert.deepEqual(dry.json, {
    actions: [
      { kind: 'install', package: 'libbar 2.0-1', repository: s.repo },
      { kind: 'install', package: 'libfoo 1.0.0-1', repository: s.repo },
      { kind: 'install', package: 'app 1.0.0-1', repository: s.repo },
    ],
  });
  assert.ok(!existsSync(join(s.prefix, 'EGG-INFO')), 'a dry run installs nothing');
  assert.deepEqual(await listed(s), [], 'and records nothing');

  const first = await ok(s, ['install', 'app-1.0.0']);
  assert.equal(first.revision, 1, 'revision 0 is the empty prefix as found');
  assert.deepEqual(await listed(s), ['app 1.0.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.0.0-1 (auto)']);
  const eg = await runEgginst(['--prefix', s.prefix, '--list', '--json']);
  assert.deepEqual(
    (eg.json as { packages: { key: string }[] }).packages.map((p) => p.key),
    ['app', 'libbar', 'libfoo'],
    'egginst sees the same packages',
  );

  const up = await ok(s, ['update', '--all']);
  assert.deepEqual(actions(up), ['update libfoo 1.0.0-1 -> libfoo 1.1.0-1', 'update app 1.0.0-1 -> app 1.1.0-1']);
  assert.deepEqual(await listed(s), ['app 1.1.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.1.0-1 (auto)']);
  assert.deepEqual(actions(await ok(s, ['update', '--all'])), [], 'update --all again is a no-op');

  const rm = await ok(s, ['remove', 'libfoo']);
  assert.deepEqual(actions(rm).sort(), ['remove app 1.1.0-1', 'remove libbar 2.0-1', 'remove libfoo 1.1.0-1']);
  assert.deepEqual(await listed(s), []);
});

test('history, revert, verify', async (t) => {
  const s = await setup(t);
  await ok(s, ['install', 'app-1.0.0']);
  await ok(s, ['install', 'data']);
  await ok(s, ['update', 'app']);
  const hist = await s.enpkg(['history']);
  assert.equal(hist.code, 0);
  // Enstaller's --log shape: "<time>  (rev N)", then indented changes.
  assert.match(hist.stdout, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}\(rev 0\)$/m);
  assert.match(hist.stdout, /^ {4}\+app-1\.0\.0-1$/m);
  assert.match(hist.stdout, /^ {5}app {2}\(1\.0\.0-1 -> 1\.1\.0-1\)$/m);

  const back = await ok(s, ['revert', '1']);
  assert.equal(back.revision, 4, 'a revert is a new revision');
  assert.deepEqual(await listed(s), ['app 1.0.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.0.0-1 (auto)']);
  await ok(s, ['revert', '0']);
  assert.deepEqual(await listed(s), []);
  const missing = await s.enpkg(['revert', '99', '--json']);
  assert.equal(missing.code, 1);
  assert.equal((missing.json as Ok).error!.code, 'NO_SUCH_REVISION');

  await ok(s, ['install', 'data']);
  assert.equal((await s.enpkg(['verify'])).code, 0);
  writeFileSync(join(s.prefix, 'share/data/table.csv'), 'changed');
  const bad = await s.enpkg(['verify', '--json']);
  assert.equal(bad.code, 1);
  assert.match(JSON.stringify(bad.json), /share\/data\/table\.csv/);
});

test('revert works from the cache after the repository lost the egg', async (t) => {
  const s = await setup(t);
  await ok(s, ['install', 'upg']);
  await ok(s, ['remove', 'upg']);
  const { rmSync } = await import('node:fs');
  rmSync(join(s.repo, 'upg-1.0-1.egg'));
  assert.equal((await runEnpkg(['repo', 'index', s.repo], { env: s.env })).code, 0);
  await ok(s, ['revert', '1']);
  assert.deepEqual(await listed(s), ['upg 1.0-1']);
});

test('freeze and install -r round trip', async (t) => {
  const s = await setup(t);
  await ok(s, ['install', 'app-1.0.0', 'data']);
  const frozen = await s.enpkg(['freeze']);
  assert.equal(frozen.stdout, 'app 1.0.0-1\ndata 1.0-1\nlibbar 2.0-1\nlibfoo 1.0.0-1\n');
  const file = join(s.root, 'frozen.txt');
  writeFileSync(file, frozen.stdout);
  const other = join(s.root, 'other');
  const r = await runEnpkg(['install', '-r', file, '-y', '--prefix', other, '--repo', s.repo], { env: s.env });
  assert.equal(r.code, 0, r.stderr);
  const again = await runEnpkg(['freeze', '--prefix', other], { env: s.env });
  assert.equal(again.stdout, frozen.stdout);
});

test('a conflict and a failing script in a five-package transaction change nothing', async (t) => {
  const s = await setup(t);
  await ok(s, ['install', 'upg']);
  const before = await treeHash(s.prefix);
  const clash = await s.enpkg(['install', 'clash', '--json', '-y']);
  assert.equal(clash.code, 1);
  assert.equal((clash.json as Ok).error!.code, 'FILE_CONFLICT');
  const fail = await s.enpkg(['install', 'app', 'libfoo', 'libbar', 'data', 'failpost', '--json', '-y']);
  assert.equal(fail.code, 1);
  assert.equal((fail.json as Ok).error!.code, 'SCRIPT_FAILED');
  assert.match((fail.json as Ok).error!.message, /step 2 failed/);
  assert.equal(await treeHash(s.prefix), before, 'the prefix is exactly as it was');
  assert.deepEqual(await listed(s), ['upg 1.0-1']);
  const hist = await s.enpkg(['history', '--json']);
  assert.equal((hist.json as { revisions: unknown[] }).revisions.length, 2, 'no revision for failed transactions');
});

test('changes made with plain egginst are recorded; Enstaller spellings work', async (t) => {
  const s = await setup(t);
  await ok(s, ['install', 'upg']);
  assert.equal((await runEgginst(['--prefix', s.prefix, fixturePath('eggs', 'data-1.0-1.egg')])).code, 0);
  const l = await runEnpkg(['--list', '--prefix', s.prefix, '--json'], { env: s.env });
  assert.deepEqual(
    (l.json as { packages: { key: string }[] }).packages.map((p) => p.key),
    ['data', 'upg'],
  );
  const log = await runEnpkg(['--log', '--prefix', s.prefix], { env: s.env });
  assert.match(log.stdout, /\(rev 2\)\n {4}\+data-1\.0-1$/m);
  const hist = await runEnpkg(['--log', '--json', '--prefix', s.prefix], { env: s.env });
  assert.match((hist.json as { revisions: { command: string }[] }).revisions[2]!.command, /changed outside enpkg/);
  const mark = await s.enpkg(['mark', '--auto', 'data', '--json']);
  assert.equal(mark.code, 0);
  assert.deepEqual(await listed(s), ['data 1.0-1 (auto)', 'upg 1.0-1']);
});

test('two enpkg processes on one prefix: the second is told, or waits with --wait', async (t) => {
  const s = await setup(t);
  const cfg = join(s.root, 'config.yaml');
  writeFileSync(cfg, 'script_timeout: 3\n');
  const first = s.enpkg(['install', 'hang', '-y', '--config', cfg]);
  for (let i = 0; i < 200 && !existsSync(join(s.prefix, 'hang.pid')); i++) await new Promise((r) => setTimeout(r, 50));
  const second = await s.enpkg(['install', 'data', '-y', '--json']);
  assert.equal(second.code, 1);
  assert.equal((second.json as Ok).error!.code, 'PREFIX_LOCKED');
  const third = await s.enpkg(['install', 'data', '-y', '--wait', '--json']);
  assert.equal((await first).code, 1, 'the hanging script timed out');
  assert.equal(third.code, 0, third.stderr);
  assert.deepEqual(await listed(s), ['data 1.0-1']);
});

test('over HTTPS from nginx: install with dependencies, update, and eggs reused from the cache', async (t) => {
  const s = await setup(t);
  const nginx = await startNginx(t, { root: s.repo });
  const cfg = join(s.root, 'https.yaml');
  writeFileSync(cfg, `network:\n  ca_file: ${nginx.caFile}\nrepositories:\n  - name: web\n    url: ${nginx.url('/')}\n`);
  const run = (args: string[]) => runEnpkg([...args, '--prefix', s.prefix, '--config', cfg, '-y', '--json'], { env: s.env });
  const first = await run(['install', 'app-1.0.0']);
  assert.equal(first.code, 0, first.stdout + first.stderr);
  assert.deepEqual(await listed(s), ['app 1.0.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.0.0-1 (auto)']);
  const up = await run(['update', '--all']);
  assert.equal(up.code, 0, up.stdout + up.stderr);
  const eggGets = (): number => nginx.requests().filter((r) => r.uri.endsWith('.egg')).length;
  const before = eggGets();
  assert.equal(before, 5, 'each egg fetched once');
  const back = await run(['revert', '1']);
  assert.equal(back.code, 0, back.stdout + back.stderr);
  assert.equal(eggGets(), before, 'revert used the cache, not the network');
  const list = await runEnpkg(['list', '--json', '--prefix', s.prefix], { env: s.env });
  assert.ok((list.json as { packages: { repository: string }[] }).packages.every((p) => p.repository === 'web'));
});

test('plans and list name the repository each package comes from; the same egg in two repositories comes from the first', async (t) => {
  const s = await setup(t, ['libbar-2.0-1', 'libfoo-1.0.0-1']);
  const second = join(s.root, 'second');
  mkdirSync(second);
  for (const e of ['app-1.0.0-1', 'libfoo-1.0.0-1']) copyFileSync(fixturePath('eggs', `${e}.egg`), join(second, `${e}.egg`));
  assert.equal((await runEnpkg(['repo', 'index', second, '-q'], { env: s.env })).code, 0);
  const both = (args: string[]) => runEnpkg([...args, '--prefix', s.prefix, '--repo', s.repo, '--repo', second], { env: s.env });

  const dry = await both(['install', 'app', '--dry-run', '--json']);
  assert.equal(dry.code, 0, dry.stderr);
  const planned = (dry.json as { actions: { package: string; repository?: string }[] }).actions;
  const from = Object.fromEntries(planned.map((a) => [a.package, a.repository]));
  assert.ok(from['app 1.0.0-1'] !== undefined && from['app 1.0.0-1'] !== from['libfoo 1.0.0-1'], JSON.stringify(planned));
  assert.equal(from['libfoo 1.0.0-1'], from['libbar 2.0-1'], 'libfoo from the first repository, as libbar');

  const text = await both(['install', 'app', '--dry-run']);
  assert.match(text.stdout, new RegExp(`install {3}app 1\\.0\\.0-1 {2}\\(from ${escapeRe(from['app 1.0.0-1']!)}\\)`));
  assert.match(text.stdout, new RegExp(`install {3}libfoo 1\\.0\\.0-1 {2}\\(from ${escapeRe(from['libfoo 1.0.0-1']!)}\\)`));

  // Everything from one repository: the lines stay as they were.
  const single = await s.enpkg(['install', 'libfoo', '--dry-run']);
  assert.match(single.stdout, /^ {2}install {3}libfoo 1\.0\.0-1$/m);

  assert.equal((await both(['install', 'app', '-y', '-q'])).code, 0);
  const list = await both(['list', '--json']);
  const rows = (list.json as { packages: { key: string; repository: string | null }[] }).packages;
  assert.deepEqual(Object.fromEntries(rows.map((p) => [p.key, p.repository])), {
    app: from['app 1.0.0-1'],
    libbar: from['libbar 2.0-1'],
    libfoo: from['libfoo 1.0.0-1'],
  });
});

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

test("the state database keeps each package's files as its record lists them, and an older one is migrated", async (t) => {
  const s = await setup(t);
  await ok(s, ['install', 'libbar']);
  const { default: Database } = await import('better-sqlite3');
  const dbPath = join(s.prefix, '.enpkg', 'state.db');
  const recorded = (key: string): unknown =>
    (JSON.parse(readFileSync(join(s.prefix, 'EGG-INFO', key, 'egginst.json'), 'utf8')) as { records: unknown[] }).records;
  /** Each package's files as the database holds them, NULLs dropped, by path. */
  const stored = (): Record<string, unknown> => {
    const db = new Database(dbPath, { readonly: true });
    try {
      const rows = db.prepare('SELECT key, files FROM package_files ORDER BY key').all() as Array<{ key: string; files: string }>;
      return Object.fromEntries(
        rows.map((r) => [
          r.key,
          (JSON.parse(r.files) as Array<Record<string, unknown>>)
            .map((f) => Object.fromEntries(Object.entries(f).filter(([, v]) => v !== null)))
            .sort((a, b) => String(a.path).localeCompare(String(b.path))),
        ]),
      );
    } finally {
      db.close();
    }
  };
  const installedKeys = async (): Promise<string[]> => (await listed(s)).map((l) => l.split(' ')[0]!).sort();
  const keys = await installedKeys();
  assert.ok(keys.includes('libbar'));
  const byPath = (files: unknown): unknown => (files as Array<{ path: string }>).slice().sort((a, b) => a.path.localeCompare(b.path));
  const want = Object.fromEntries(keys.map((k) => [k, byPath(recorded(k))]));
  assert.deepEqual(stored(), want);
  // The same database as an enpkg of schema 3 left it: a row per file.
  const db = new Database(dbPath);
  db.exec(`CREATE TABLE files (key TEXT NOT NULL REFERENCES packages(key) ON DELETE CASCADE, path TEXT NOT NULL, kind TEXT NOT NULL,
             sha256 TEXT, size INTEGER, mode INTEGER, target TEXT, PRIMARY KEY (key, path));
           INSERT INTO files SELECT p.key, json_extract(f.value, '$.path'), json_extract(f.value, '$.kind'),
             json_extract(f.value, '$.sha256'), json_extract(f.value, '$.size'), json_extract(f.value, '$.mode'),
             json_extract(f.value, '$.target')
             FROM package_files p, json_each(p.files) f;
           DROP TABLE package_files;
           PRAGMA user_version = 3;`);
  db.close();
  await listed(s);
  assert.ok(existsSync(`${dbPath}.bak-v3`), 'the schema-3 database is kept beside it');
  assert.deepEqual(stored(), want, 'the rows per file become the same lists');
  // And the next transaction writes its package's list as before.
  await ok(s, ['remove', 'libbar']);
  await ok(s, ['install', 'app']);
  const after = stored();
  assert.deepEqual(Object.keys(after).sort(), await installedKeys());
  for (const [key, files] of Object.entries(after)) assert.deepEqual(files, byPath(recorded(key)), key);
});
