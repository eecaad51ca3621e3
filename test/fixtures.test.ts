/**
 * The fixture builder itself: deterministic, every egg readable, every hostile archive described.
 */
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { test } from 'node:test';
import { ErrorCodes } from 'egginst';
import { fixturePath, fixturesBuildScript, readHostileManifest, runNode, tempDir, treeListing } from './helpers/index.js';
import { listZip, type ZipListingEntry } from './helpers/zip.js';

test('two builds give byte-identical fixtures', async (t) => {
  const outs = [await tempDir(t, 'fixtures-a-'), await tempDir(t, 'fixtures-b-')];
  for (const out of outs) {
    const r = await runNode(fixturesBuildScript, ['--out', out]);
    assert.equal(r.code, 0, r.stderr);
  }
  const [a, b] = await Promise.all(outs.map((o) => treeListing(o)));
  assert.ok(
    (a ?? []).some((line) => line.includes('"eggs/app-1.0.0-1.egg"')),
    'the build wrote the eggs',
  );
  assert.deepEqual(a, b);
});

const EXPECTED_EGGS = [
  'Plain-0.5-py2.7.egg',
  'app-1.0.0-1.egg',
  'app-1.1.0-1.egg',
  'big-1.0-1.egg',
  'clash-1.0-1.egg',
  'data-1.0-1.egg',
  'failpost-1.0-1.egg',
  'failpre-1.0-1.egg',
  'hang-1.0-1.egg',
  'hook-1.0-1.egg',
  'infojson-1.0-1.egg',
  'libbar-2.0-1.egg',
  'libfoo-1.0.0-1.egg',
  'libfoo-1.1.0-1.egg',
  'links-1.0-1.egg',
  'reloc-1.0-1.egg',
  'relocpy-1.0-1.egg',
  'relocshort-1.0-1.egg',
  'scripts-1.0-1.egg',
  'shadow-1.0-1.egg',
  'skips-1.0-1.egg',
  'upg-1.0-1.egg',
  'upg-2.0-1.egg',
];

test('every fixture egg is built', async () => {
  assert.deepEqual((await readdir(fixturePath('eggs'))).sort(), [...EXPECTED_EGGS].sort());
});

/** Per-egg facts the tests of egginst rely on, beyond "it opens". */
const checks: Record<string, (entries: ZipListingEntry[], byName: Map<string, ZipListingEntry>) => void> = {
  'Plain-0.5-py2.7.egg': (_, e) => {
    assert.match(e.get('EGG-INFO/PKG-INFO')?.content.toString() ?? '', /^Name: Plain$/m);
    assert.equal(e.has('EGG-INFO/spec/depend'), false);
  },
  'app-1.0.0-1.egg': (_, e) => {
    assert.match(e.get('EGG-INFO/entry_points.txt')?.content.toString() ?? '', /app = app\.main:run/);
    assert.equal(e.get('EGG-INFO/usr/bin/app-tool')?.mode, 0o100755);
  },
  'hook-1.0-1.egg': (_, e) => {
    assert.equal(e.get('EGG-INFO/inst/post-install')?.mode, 0o100755);
    assert.equal(e.get('EGG-INFO/inst/pre-uninstall')?.mode, 0o100755);
  },
  'links-1.0-1.egg': (entries, e) => {
    const link = e.get('EGG-INFO/usr/lib/libz.so.1');
    assert.equal(link?.mode, 0o120777);
    assert.equal(link?.content.toString(), 'libz.so.1.2.8');
    const names = entries.map((x) => x.name);
    assert.ok(names.indexOf('EGG-INFO/usr/lib/libz.so.1') < names.indexOf('EGG-INFO/usr/lib/libz.so.1.2.8'));
    const lines = e.get('EGG-INFO/inst/files_to_install.txt')?.content.toString() ?? '';
    assert.match(lines, /^EGG-INFO\/usr\/lib\/libz\.so +libz\.so\.1\.2\.8$/m);
    assert.match(lines, / False$/m);
    assert.match(lines, / PROXY$/m);
  },
  'reloc-1.0-1.egg': (_, e) => {
    for (const program of ['EGG-INFO/usr/bin/reloc-rpath', 'EGG-INFO/usr/bin/reloc-runpath']) {
      assert.equal(e.get(program)?.content.subarray(0, 4).toString('latin1'), '\x7fELF', `${program} is ELF object code`);
      assert.ok(e.get(program)?.content.includes('/PLACEHOLD'.repeat(20)), `${program} has the legacy marker`);
    }
    assert.equal(e.get('EGG-INFO/inst/targets.dat')?.content.toString(), 'lib/reloc\n');
  },
  'data-1.0-1.egg': (entries, e) => {
    assert.match(e.get('EGG-INFO/spec/depend')?.content.toString() ?? '', /^python = None$/m);
    for (const { name } of entries) assert.match(name, /^EGG-INFO\/(prefix|spec)\//);
    assert.equal(e.get('EGG-INFO/prefix/bin/datatool')?.mode, 0o100755);
  },
  'skips-1.0-1.egg': (entries, e) => {
    for (const name of ['pkg/mod.so', 'pkg/mod.py', 'pkg/mod.pyc', '.unused_x', 'pkg/tool.dylib', 'pkg/']) {
      assert.ok(e.has(name), name);
    }
    assert.ok(entries.filter((x) => x.isDirectory).length >= 2);
    assert.equal(e.get('pkg/run.sh')?.mode, 0o100755);
  },
  'big-1.0-1.egg': (entries) => {
    const total = entries.reduce((n, x) => n + x.size, 0);
    assert.ok(total >= 4 << 20, `${total} bytes`);
  },
};

for (const egg of EXPECTED_EGGS) {
  test(`${egg} opens and lists with yauzl`, async () => {
    const entries = await listZip(fixturePath('eggs', egg));
    const byName = new Map(entries.map((e) => [e.name, e]));
    assert.equal(byName.size, entries.length, 'no duplicate names');
    if (!egg.includes('-py')) {
      const depend = byName.get('EGG-INFO/spec/depend')?.content.toString() ?? '';
      const [, name, version, build] = /^(.+)-([^-]+)-(\d+)\.egg$/.exec(egg) ?? [];
      assert.match(depend, new RegExp(`^name = '${name}'$`, 'm'));
      assert.match(depend, new RegExp(`^version = '${version}'$`, 'm'));
      assert.match(depend, new RegExp(`^build = ${build}$`, 'm'));
      assert.ok(byName.has('EGG-INFO/spec/summary'));
    }
    checks[egg]?.(entries, byName);
  });
}

test('every hostile archive is in the manifest, and every manifest row is complete', async () => {
  const manifest = readHostileManifest();
  const files = (await readdir(fixturePath('hostile'))).filter((f) => f !== 'manifest.json').sort();
  assert.deepEqual(manifest.map((c) => c.file).sort(), files);
  assert.equal(new Set(files).size, manifest.length, 'file names are unique');
  const codes = new Set<string>(Object.values(ErrorCodes));
  for (const c of manifest) {
    assert.match(c.file, /^[\w.]+-[\w.]+-\d+\.egg$/, c.file);
    assert.ok(codes.has(c.expectCode), `${c.file}: unknown code ${c.expectCode}`);
    assert.ok(c.attack.length > 0 && c.entry.length > 0, c.file);
  }
});
