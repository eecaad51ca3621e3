/**
 * egginst's behaviour on the fixture eggs: replacing, conflicts, scripts and their environment,
 * rollbacks, links, payload kinds, records that lie, exit codes.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { listInstalled, openArchive } from 'egginst';
import { buildBenchEgg } from '#fixtures';
import { fixturePath, runEgginst, tempDir, treeHash, treeListing } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);
type Json = {
  ok: boolean;
  changes?: { kind: string; key: string }[];
  warnings?: { code: string; message: string }[];
  error?: { code: string; message: string };
};

async function prefixIn(t: Parameters<typeof tempDir>[0]): Promise<{ root: string; prefix: string }> {
  const root = await tempDir(t);
  const prefix = join(root, 'prefix');
  mkdirSync(prefix);
  return { root, prefix };
}

async function ok(args: string[], env: Record<string, string> = {}): Promise<Json> {
  const r = await runEgginst([...args, '--json'], { env });
  assert.equal(r.code, 0, r.stderr);
  return r.json as Json;
}

async function fails(args: string[], code: string, env: Record<string, string> = {}): Promise<Json['error'] & {}> {
  const r = await runEgginst([...args, '--json'], { env });
  assert.equal(r.code, 1, `expected failure ${code}, got ${r.code}: ${r.stderr}`);
  const e = (r.json as Json).error!;
  assert.equal(e.code, code, e.message);
  assert.match(r.stderr, /^egginst: error: /m);
  return e;
}

test('an install of an installed name replaces it in one step', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('upg-1.0-1')]);
  const sp = 'lib/python2.7/site-packages/upg';
  assert.ok(existsSync(join(prefix, sp, 'old.py')));
  const r = await ok(['--prefix', prefix, egg('upg-2.0-1')]);
  assert.deepEqual(
    r.changes!.map((c) => c.kind),
    ['update'],
  );
  assert.ok(!existsSync(join(prefix, sp, 'old.py')), 'a file only the old version had is gone');
  assert.ok(!existsSync(join(prefix, 'share/upg/old-only.txt')));
  assert.ok(existsSync(join(prefix, sp, 'new.py')) && existsSync(join(prefix, 'share/upg/new-only.txt')));
  const rec = JSON.parse(readFileSync(join(prefix, 'EGG-INFO/upg/egginst.json'), 'utf8'));
  assert.equal(rec.version, '2.0');
  assert.ok(!rec.files.some((f: string) => f.includes('old')));
  assert.equal(statSync(join(prefix, 'bin/upg-tool')).mode & 0o777, 0o755);
});

test('where `sync -f` is missing, every staged file is fsynced instead: the same install, with a store or without', async (t) => {
  const { root, prefix } = await prefixIn(t);
  // A PATH without `sync` (the interpreter is run by its own path): the flush falls back to fsyncs.
  const bare = join(root, 'bare-path');
  mkdirSync(bare);
  const eggs = [egg('data-1.0-1'), egg('upg-1.0-1')];
  await ok(['--prefix', prefix, ...eggs]);
  for (const store of [[], ['--store', join(root, 'store')]]) {
    const other = join(root, `p${store.length}`);
    await ok(['--prefix', other, ...store, ...eggs], { PATH: bare });
    // The install records name their own prefix: the rest is compared (hard links from the store have no write bits).
    const listing = async (p: string): Promise<string[]> =>
      (await treeListing(p))
        .filter((l) => !l.includes('/egginst.json"'))
        .map((l) =>
          store.length > 0 ? l.replace(/^file (\d)(\d)(\d)(\d)/, (_m, a, b, c, d) => `file ${a}${+b & 5}${+c & 5}${+d & 5}`) : l,
        );
    assert.deepEqual(await listing(other), await listing(prefix), store.join(' ') || 'without a store');
    assert.equal(listInstalled(other).length, 2);
  }
});

test('a file owned by another package is a conflict naming both; --force overwrites', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('upg-1.0-1')]);
  const before = await treeHash(prefix);
  const e = await fails(['--prefix', prefix, egg('clash-1.0-1')], 'FILE_CONFLICT');
  assert.match(e.message, /share\/upg\/data\.txt/);
  assert.match(e.message, /clash/);
  assert.match(e.message, /upg/);
  assert.equal(await treeHash(prefix), before, 'prefix unchanged');
  const forced = await ok(['--prefix', prefix, '--force', egg('clash-1.0-1')]);
  assert.ok(forced.warnings!.some((w) => w.code === 'OVERWRITING_OWNED'));
  // Removing one owner keeps the file the other still owns.
  await ok(['--prefix', prefix, '--remove', 'clash']);
  assert.ok(existsSync(join(prefix, 'share/upg/data.txt')));
});

test('several eggs install as one transaction: one failure installs none', async (t) => {
  const { prefix } = await prefixIn(t);
  const before = await treeHash(prefix);
  const e = await fails(['--prefix', prefix, egg('data-1.0-1'), egg('failpost-1.0-1'), egg('upg-1.0-1')], 'SCRIPT_FAILED');
  assert.match(e.message, /post-install script/);
  assert.match(e.message, /step 2 failed: cannot configure/, 'the tail of the output is in the error');
  assert.equal(await treeHash(prefix), before);
  const r = await ok(['--prefix', prefix, egg('data-1.0-1'), egg('upg-1.0-1')]);
  assert.deepEqual(r.changes!.map((c) => c.key).sort(), ['data', 'upg']);
});

test('python scripts run with --prefix and the package environment', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('scripts-1.0-1')]);
  assert.equal(readFileSync(join(prefix, 'scripts-post.txt'), 'utf8'), 'scripts\n');
  await ok(['--prefix', prefix, '--remove', 'scripts']);
  assert.ok(existsSync(join(prefix, 'scripts-pre.txt')));
  assert.ok(!existsSync(join(prefix, 'EGG-INFO/scripts')));
});

test('hooks get an explicit environment and a closed stdin', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('hook-1.0-1')], { SECRET_FROM_CALLER: 'hunter2' });
  assert.equal(readFileSync(join(prefix, 'hook-post.txt'), 'utf8'), 'hook 1.0 1 install\nstdin=closed\nSECRET_FROM_CALLER=unset\n');
  await ok(['--prefix', prefix, '--remove', 'hook'], { SECRET_FROM_CALLER: 'hunter2' });
  assert.equal(readFileSync(join(prefix, 'hook-pre.txt'), 'utf8'), 'hook 1.0 1 remove\nstdin=closed\nSECRET_FROM_CALLER=unset\n');
});

test('--no-scripts and EGGINST_NO_SCRIPTS=1 skip scripts', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, '--no-scripts', egg('failpost-1.0-1')]);
  await ok(['--prefix', prefix, '--remove', 'failpost']);
  await ok(['--prefix', prefix, egg('hook-1.0-1')], { EGGINST_NO_SCRIPTS: '1' });
  assert.ok(!existsSync(join(prefix, 'hook-post.txt')));
});

test('a failing pre-uninstall script keeps the package; --force removes it anyway', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('failpre-1.0-1')]);
  const before = await treeHash(prefix);
  const e = await fails(['--prefix', prefix, '--remove', 'failpre'], 'SCRIPT_FAILED');
  assert.match(e.message, /pre-uninstall/);
  assert.equal(await treeHash(prefix), before);
  const r = await ok(['--prefix', prefix, '--remove', '--force', 'failpre']);
  assert.ok(r.warnings!.some((w) => w.code === 'PRE_UNINSTALL_FAILED'));
  assert.ok(!existsSync(join(prefix, 'share/failpre')));
});

test('a script past its timeout is killed with its whole process group, and the install rolls back', async (t) => {
  const { prefix } = await prefixIn(t);
  const e = await fails(['--prefix', prefix, '--script-timeout', '2', egg('hang-1.0-1')], 'SCRIPT_TIMEOUT');
  assert.match(e.message, /did not finish within 2 s/);
  const child = Number(readFileSync(join(prefix, 'hang-child.pid'), 'utf8'));
  const alive = (pid: number): boolean => spawnSync('kill', ['-0', String(pid)]).status === 0;
  for (let i = 0; i < 50 && alive(child); i++) await new Promise((r) => setTimeout(r, 100));
  assert.ok(!alive(child), 'the background child of the script was killed too');
  assert.ok(!existsSync(join(prefix, 'EGG-INFO/hang')), 'rolled back');
});

test('links: files_to_install.txt and zip symlink entries (a link before its target)', async (t) => {
  const { prefix } = await prefixIn(t);
  const r = await ok(['--prefix', prefix, egg('links-1.0-1')]);
  assert.ok(
    r.warnings!.some((w) => w.code === 'WINDOWS_ONLY'),
    'the PROXY line is ignored with a warning',
  );
  assert.equal(readlinkSync(join(prefix, 'lib/libz.so')), 'libz.so.1.2.8');
  assert.equal(readlinkSync(join(prefix, 'lib/libz.so.1')), 'libz.so.1.2.8');
  assert.equal(readFileSync(join(prefix, 'lib/libz.so.1'), 'utf8'), readFileSync(join(prefix, 'lib/libz.so.1.2.8'), 'utf8'));
  await ok(['--prefix', prefix, '--remove', 'links']);
  assert.ok(!existsSync(join(prefix, 'lib/libz.so.1.2.8')));
  assert.throws(() => lstatSync(join(prefix, 'lib/libz.so')));
});

test('EGG-INFO/prefix payloads, info.json, skipped entries, modes, setuptools eggs', async (t) => {
  const { prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('data-1.0-1'), egg('infojson-1.0-1'), egg('skips-1.0-1'), fixturePath('eggs', 'Plain-0.5-py2.7.egg')]);
  assert.equal(statSync(join(prefix, 'bin/datatool')).mode & 0o777, 0o755);
  assert.equal(statSync(join(prefix, 'share/data/table.csv')).mode & 0o777, 0o644);
  const info = JSON.parse(readFileSync(join(prefix, 'EGG-INFO/infojson/egginst.json'), 'utf8'));
  const infoSrc = JSON.parse(readFileSync(fixturePath('..', 'eggs', 'infojson-1.0-1', 'EGG-INFO', 'info.json'), 'utf8'));
  assert.deepEqual(info.spec.packages, infoSrc.packages);
  const sp = join(prefix, 'lib/python2.7/site-packages/pkg');
  assert.ok(existsSync(join(sp, 'mod.so')) && !existsSync(join(sp, 'mod.py')) && !existsSync(join(sp, 'mod.pyc')));
  assert.ok(existsSync(join(sp, 'other.py')) && existsSync(join(sp, 'other.pyc')));
  assert.ok(!existsSync(join(prefix, 'lib/python2.7/site-packages/.unused_x')));
  assert.equal(statSync(join(sp, 'run.sh')).mode & 0o777, 0o755, 'zip execute bit honoured');
  assert.equal(statSync(join(sp, 'tool.dylib')).mode & 0o777, 0o755);
  const list = (await ok(['--prefix', prefix, '--list'])) as unknown as { packages: { key: string; version: string; build: number }[] };
  assert.deepEqual(
    list.packages.find((p) => p.key === 'plain'),
    { ...list.packages.find((p) => p.key === 'plain')!, version: '0.5', build: 0 },
  );
});

test('a tampered record cannot make uninstall delete outside the prefix or through a link', async (t) => {
  const { root, prefix } = await prefixIn(t);
  await ok(['--prefix', prefix, egg('data-1.0-1')]);
  mkdirSync(join(root, 'outside'));
  writeFileSync(join(root, 'outside', 'victim'), 'precious');
  symlinkSync(join(root, 'outside'), join(prefix, 'share', 'escape'));
  const recPath = join(prefix, 'EGG-INFO/data/egginst.json');
  const rec = JSON.parse(readFileSync(recPath, 'utf8'));
  mkdirSync(join(prefix, '.enpkg'));
  writeFileSync(join(prefix, '.enpkg', 'state.db'), "the manager's database");
  rec.files.push('../outside/victim', join(root, 'outside', 'victim'), './share/escape/victim', './.egginst/x', './.enpkg/state.db');
  writeFileSync(recPath, JSON.stringify(rec));
  const r = await ok(['--prefix', prefix, '--remove', 'data']);
  assert.equal(readFileSync(join(root, 'outside', 'victim'), 'utf8'), 'precious');
  assert.ok(existsSync(join(prefix, '.enpkg', 'state.db')), "enpkg's database is not the package's to delete");
  assert.ok(r.warnings!.some((w) => w.code === 'RECORD_OUTSIDE_PREFIX'));
  assert.ok(r.warnings!.some((w) => w.code === 'RECORD_THROUGH_LINK'));
  assert.ok(!existsSync(join(prefix, 'share/data')));
});

test("Enstaller's older record form is listed and removed", async (t) => {
  const { prefix } = await prefixIn(t);
  mkdirSync(join(prefix, 'EGG-INFO/oldpkg'), { recursive: true });
  mkdirSync(join(prefix, 'lib/python2.7/site-packages'), { recursive: true });
  writeFileSync(join(prefix, 'lib/python2.7/site-packages/oldpkg.py'), 'x = 1\n');
  writeFileSync(join(prefix, 'lib/python2.7/site-packages/oldpkg.pyc'), 'compiled');
  writeFileSync(join(prefix, 'EGG-INFO/oldpkg/PKG-INFO'), 'Name: oldpkg\n');
  writeFileSync(
    join(prefix, 'EGG-INFO/oldpkg/egginst.json'),
    JSON.stringify({
      egg_name: 'oldpkg-0.9-2.egg',
      files: [join(prefix, 'lib/python2.7/site-packages/oldpkg.py'), './EGG-INFO/oldpkg/PKG-INFO', './EGG-INFO/oldpkg/egginst.json'],
      installed_size: 6,
      prefix,
    }),
  );
  const list = (await ok(['--prefix', prefix, '--list'])) as unknown as {
    packages: { key: string; version: string; build: number; legacyRecord: boolean }[];
  };
  assert.deepEqual(
    list.packages.map((p) => [p.key, p.version, p.build, p.legacyRecord]),
    [['oldpkg', '0.9', 2, true]],
  );
  await ok(['--prefix', prefix, '--remove', 'oldpkg']);
  assert.deepEqual(
    await treeListing(join(prefix, 'lib')).then((l) => l.filter((x) => x.startsWith('file'))),
    [],
    'x.py and its x.pyc are gone',
  );
  assert.ok(!existsSync(join(prefix, 'EGG-INFO')));
});

test('exit codes: usage errors are 2, failures 1', async (t) => {
  const { prefix } = await prefixIn(t);
  assert.equal((await runEgginst([egg('data-1.0-1')], { env: { EGGINST_PREFIX: undefined } })).code, 2, 'no prefix');
  assert.equal((await runEgginst(['--prefix', prefix, '--remove'])).code, 2);
  assert.equal((await runEgginst(['--prefix', prefix, '--bogus'])).code, 2);
  assert.equal((await runEgginst(['--prefix', prefix, '--script-timeout', 'soon', egg('data-1.0-1')])).code, 2);
  assert.equal((await runEgginst(['--help'])).code, 0);
  assert.match((await runEgginst(['--version'])).stdout, /^\d+\.\d+\.\d+/);
  await fails(['--prefix', prefix, '--remove', 'nothere'], 'NOT_INSTALLED');
  await fails(['--prefix', prefix, join(prefix, 'missing-1.0-1.egg')], 'FILE_NOT_FOUND');
  assert.equal((await runEgginst(['--list'], { env: { EGGINST_PREFIX: prefix } })).code, 0, 'EGGINST_PREFIX is the default prefix');
});

test('more data than free space is refused before anything is written', async (t) => {
  const { root } = await prefixIn(t);
  const small = join(root, 'small');
  mkdirSync(small);
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', small], { stdio: 'ignore' }).status === 0;
  if (!mounted) {
    t.skip('cannot mount a small tmpfs here (needs root)');
    return;
  }
  try {
    writeFileSync(join(small, 'keep.txt'), 'x');
    const before = await treeHash(small);
    const e = await fails(['--prefix', small, egg('big-1.0-1')], 'NO_SPACE');
    assert.match(e.message, /free/);
    assert.equal(await treeHash(small), before);
  } finally {
    execFileSync('umount', [small]);
  }
});

test('a large egg is staged by several threads: every file matches its record; a corrupt byte anywhere fails cleanly', async (t) => {
  const { root, prefix } = await prefixIn(t);
  const big = join(root, 'many-1.0-1.egg');
  await buildBenchEgg(big, { files: 2500, totalBytes: 8 << 20, seed: 7 });
  await ok(['--prefix', prefix, big]);
  const rec = JSON.parse(readFileSync(join(prefix, 'EGG-INFO/many/egginst.json'), 'utf8')) as {
    records: { path: string; sha256: string; size: number }[];
  };
  assert.ok(rec.records.length >= 2500);
  for (const r of rec.records) {
    const data = readFileSync(join(prefix, r.path));
    assert.equal(data.length, r.size, r.path);
    assert.equal(createHash('sha256').update(data).digest('hex'), r.sha256, r.path);
  }
  await ok(['--prefix', prefix, '--remove', 'many']);

  // Flip a byte in the data of an entry near the end: it lands in another thread's share.
  const archive = await openArchive(big);
  const victim = archive.entries.filter((e) => e.kind === 'file' && e.compressedSize > 16).at(-3)!;
  archive.close();
  const bytes = readFileSync(big);
  bytes[victim.dataStart + Math.floor(victim.compressedSize / 2)]! ^= 0xff;
  writeFileSync(big, bytes);
  const before = await treeHash(prefix);
  const r = await runEgginst(['--prefix', prefix, '--json', big]);
  assert.equal(r.code, 1);
  const e = (r.json as Json).error!;
  assert.ok(['ARCHIVE_CRC_MISMATCH', 'ARCHIVE_CORRUPT', 'ARCHIVE_SIZE_MISMATCH'].includes(e.code), e.message);
  assert.ok(e.message.includes(victim.name), e.message);
  assert.equal(await treeHash(prefix), before);
});
