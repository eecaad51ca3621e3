/**
 * Every real egg from the original tool chain installs with the layout FORMATS.md describes, its
 * scripts and links work, and uninstalling leaves no file of it behind.
 */
import assert from 'node:assert/strict';
import { existsSync, lstatSync, readFileSync, readlinkSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { realEgg, runEgginst, tempDir, treeListing } from './helpers/index.js';

interface Expect {
  egg: string;
  key: string;
  files: string[];
  modes?: Record<string, number>;
  links?: Record<string, string>;
  after?: (prefix: string) => void;
}

const cases: Expect[] = [
  {
    egg: 'dummy-1.0.1-1.egg',
    key: 'dummy',
    files: [
      'EGG-INFO/dummy/PKG-INFO',
      'EGG-INFO/dummy/egginst.json',
      'EGG-INFO/dummy/spec/depend',
      'EGG-INFO/dummy/spec/summary',
      'lib/python2.7/site-packages/dummy.py',
    ],
    modes: { 'lib/python2.7/site-packages/dummy.py': 0o644 },
  },
  {
    egg: 'MKL-10.3-1.egg',
    key: 'mkl',
    files: [
      'EGG-INFO/mkl/PKG-INFO',
      'EGG-INFO/mkl/egginst.json',
      'EGG-INFO/mkl/spec/depend',
      'EGG-INFO/mkl/spec/lib-depend',
      'EGG-INFO/mkl/spec/summary',
    ],
  },
  {
    egg: 'dummy_with_entry_points-1.0.0-1.egg',
    key: 'dummy_with_entry_points',
    files: ['bin/dummy', 'lib/python2.7/site-packages/dummy.py'],
    modes: { 'bin/dummy': 0o755 },
    after: (prefix) => {
      const script = readFileSync(join(prefix, 'bin/dummy'), 'utf8');
      assert.match(
        script,
        /^#!\/\S*python3?\n# This script was created by egginst when installing: dummy_with_entry_points-1\.0\.0-1\.egg\n/,
      );
      assert.match(script, /from dummy import main\n {4}sys\.exit\(main\(\)\)\n$/);
    },
  },
  {
    egg: 'dummy_with_post_install-1.0.1-1.egg',
    key: 'dummy_with_post_install',
    files: ['EGG-INFO/dummy_with_post_install/post_egginst.py', 'lib/python2.7/site-packages/dummy.py'],
    after: (prefix) => assert.ok(existsSync(join(prefix, 'touch.txt')), 'post_egginst.py ran with --prefix'),
  },
  {
    egg: 'dummy_with_pre_remove-1.0.1-1.egg',
    key: 'dummy_with_pre_remove',
    files: ['EGG-INFO/dummy_with_pre_remove/pre_egguninst.py'],
    after: (prefix) => assert.ok(!existsSync(join(prefix, 'touch.txt')), 'pre_egguninst.py does not run on install'),
  },
  {
    egg: 'dummy_with_proxy_softlink-1.0.0-1.egg',
    key: 'dummy_with_proxy_softlink',
    files: ['lib/libfoo.so.0.0.0', 'EGG-INFO/dummy_with_proxy_softlink/inst/files_to_install.txt'],
    links: { 'lib/libfoo.so': 'libfoo.so.0.0.0' },
    modes: { 'lib/libfoo.so.0.0.0': 0o755 },
  },
  {
    egg: 'nose-1.2.1-1.egg',
    key: 'nose',
    files: ['share/man/man1/nosetests.1', 'bin/nosetests', 'bin/nosetests-2.7', 'EGG-INFO/nose/entry_points.txt'],
    modes: { 'bin/nosetests': 0o755, 'share/man/man1/nosetests.1': 0o644 },
    after: (prefix) => assert.match(readFileSync(join(prefix, 'bin/nosetests'), 'utf8'), /from nose import run_exit/),
  },
];

for (const c of cases) {
  test(`real egg ${c.egg}: installs as FORMATS.md says, removes without a trace`, async (t) => {
    const prefix = join(await tempDir(t), 'prefix');
    mkdirSync(prefix);
    writeFileSync(join(prefix, 'keep.txt'), 'mine');
    const before = await treeListing(prefix);
    const r = await runEgginst(['--prefix', prefix, '--json', realEgg(c.egg)]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(
      (r.json as { changes: { kind: string; key: string }[] }).changes.map((x) => [x.kind, x.key]),
      [['install', c.key]],
    );
    for (const f of c.files) assert.ok(lstatSync(join(prefix, f)), `${f} is installed`);
    for (const [f, mode] of Object.entries(c.modes ?? {})) assert.equal(statSync(join(prefix, f)).mode & 0o7777, mode, `mode of ${f}`);
    for (const [l, target] of Object.entries(c.links ?? {})) {
      assert.ok(lstatSync(join(prefix, l)).isSymbolicLink(), `${l} is a link`);
      assert.equal(readlinkSync(join(prefix, l)), target);
      assert.ok(existsSync(join(prefix, l)), `${l} resolves`);
    }
    assert.ok(!existsSync(join(prefix, '.egginst')), 'no transaction left behind');
    c.after?.(prefix);
    const record = JSON.parse(readFileSync(join(prefix, 'EGG-INFO', c.key, 'egginst.json'), 'utf8'));
    assert.equal(record.egg_name, c.egg);
    for (const f of c.files) assert.ok(record.files.includes(`./${f}`), `record lists ${f}`);
    for (const rec of record.records) if (rec.kind === 'file') assert.match(rec.sha256, /^[0-9a-f]{64}$/);

    const list = await runEgginst(['--prefix', prefix, '--list', '--json']);
    assert.deepEqual(
      (list.json as { packages: { key: string }[] }).packages.map((p) => p.key),
      [c.key],
    );

    const rm = await runEgginst(['--prefix', prefix, '--remove', c.key]);
    assert.equal(rm.code, 0, rm.stderr);
    const left = (await treeListing(prefix)).filter((l) => !l.includes('touch.txt'));
    // Only the protected directories may stay (bin, lib, site-packages), and only if the egg made them.
    const extra = left
      .filter((l) => !before.includes(l))
      .filter((l) => !/^dir \d+ "(bin|lib|lib\/python2\.7|lib\/python2\.7\/site-packages)"$/.test(l));
    assert.deepEqual(extra, [], 'nothing of the egg is left');
    if (c.egg.startsWith('dummy_with_pre_remove')) assert.ok(existsSync(join(prefix, 'touch.txt')), 'pre_egguninst.py ran on removal');
  });
}

test('real eggs: nose 1.2.1 upgrades to 1.3.0 in one step, and back', async (t) => {
  const prefix = join(await tempDir(t), 'prefix');
  assert.equal((await runEgginst(['--prefix', prefix, realEgg('nose-1.2.1-1.egg')])).code, 0);
  const up = await runEgginst(['--prefix', prefix, '--json', realEgg('nose-1.3.0-1.egg')]);
  assert.equal(up.code, 0, up.stderr);
  const ch = (up.json as { changes: { kind: string; from: { version: string }; to: { version: string } }[] }).changes;
  assert.deepEqual(
    ch.map((c) => [c.kind, c.from.version, c.to.version]),
    [['update', '1.2.1', '1.3.0']],
  );
  assert.match(readFileSync(join(prefix, 'EGG-INFO/nose/spec/depend'), 'utf8'), /version = '1\.3\.0'/);
  assert.equal(statSync(join(prefix, 'share/man/man1/nosetests.1')).size, 16915);
});

test('zip symlink entries: a zip whose lib/foo.so links to foo.so.1.3', async () => {
  // zip_with_softlink.zip is not an egg (no metadata): check how the archive stage reads its link entry.
  const { openArchive } = await import('egginst');
  const a = await openArchive(realEgg('zip_with_softlink.zip'));
  try {
    const link = a.entries.find((e) => e.name === 'lib/foo.so');
    assert.equal(link?.kind, 'link');
    assert.equal(link?.linkTarget, 'foo.so.1.3');
    assert.equal(a.entries.find((e) => e.name === 'lib/foo.so.1.3')?.kind, 'file');
  } finally {
    a.close();
  }
});
