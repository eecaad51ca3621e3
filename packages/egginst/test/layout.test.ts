import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArchiveEntry } from '../src/archive.js';
import { PkgError } from '../src/errors.js';
import { computeLayout, destinationOf, modeFor, parseEntryPoints } from '../src/layout.js';

const py = () => '2.7';
let n = 0;
function entry(name: string, kind: ArchiveEntry['kind'] = 'file', extra: Partial<ArchiveEntry> = {}): ArchiveEntry {
  return { index: n++, name, kind, mode: 0o644, method: 0, crc32: 0, compressedSize: 0, uncompressedSize: 0, dataStart: 0, ...extra };
}
const id = { name: 'Foo', key: 'foo', version: '1.0', build: 1 };
const layout = (
  entries: ArchiveEntry[],
  more: { filesToInstall?: string; entryPoints?: string; targetsDat?: string; summary?: string } = {},
) =>
  computeLayout({ id, eggName: 'Foo-1.0-1.egg', entries, pythonVersion: py, pythonPath: () => '/usr/bin/python3', python: null, ...more });

test('placement rules (FORMATS.md section 2), first match wins', () => {
  assert.equal(destinationOf('EGG-INFO/prefix/share/x', 'foo', py), 'share/x');
  assert.equal(destinationOf('EGG-INFO/usr/bin/tool', 'foo', py), 'bin/tool');
  assert.equal(destinationOf('EGG-INFO/scripts/run', 'foo', py), 'bin/run');
  assert.equal(destinationOf('EGG-INFO/spec/depend', 'foo', py), 'EGG-INFO/foo/spec/depend');
  assert.equal(destinationOf('foo/__init__.py', 'foo', py), 'lib/python2.7/site-packages/foo/__init__.py');
});

test('modes', () => {
  assert.equal(modeFor('EGG-INFO/usr/bin/tool', 0o644), 0o755);
  assert.equal(modeFor('EGG-INFO/scripts/run', 0), 0o755);
  assert.equal(modeFor('foo/_x.so', 0o644), 0o755);
  assert.equal(modeFor('EGG-INFO/usr/lib/libfoo.so.1.2', 0o644), 0o755);
  assert.equal(modeFor('foo/mod.dylib', 0o644), 0o755);
  assert.equal(modeFor('EGG-INFO/prefix/bin/tool', 0o755), 0o755);
  assert.equal(modeFor('foo/a.py', 0o644), 0o644);
  assert.equal(modeFor('foo/a.py', 0), 0o644);
});

const SP = 'lib/python2.7/site-packages';
const archiveItems = (l: ReturnType<typeof layout>) => l.items.filter((i) => !i.dest.includes('.egg-info/')).map((i) => i.dest);

test('skips directories, .unused names, and .py/.pyc/.pyo shadowed by a .so', () => {
  const l = layout([
    entry('foo/', 'dir'),
    entry('.unused/x'),
    entry('foo/m.so'),
    entry('foo/m.py'),
    entry('foo/m.pyc'),
    entry('foo/m.pyo'),
    entry('foo/n.py'),
    entry('foo/n.pyo'),
  ]);
  assert.deepEqual(archiveItems(l).sort(), [`${SP}/foo/m.so`, `${SP}/foo/n.py`, `${SP}/foo/n.pyo`]);
});

test('modes: .pyd is a program too', () => {
  assert.equal(modeFor('foo/_x.pyd', 0o644), 0o755);
});

test('setuptools metadata: EGG-INFO files but the Enstaller-only ones, PKG-INFO written when missing', () => {
  const l = layout([
    entry('foo/__init__.py'),
    entry('EGG-INFO/PKG-INFO'),
    entry('EGG-INFO/entry_points.txt'),
    entry('EGG-INFO/top_level.txt'),
    entry('EGG-INFO/spec/depend'),
    entry('EGG-INFO/inst/targets.dat'),
    entry('EGG-INFO/usr/bin/tool'),
    entry('EGG-INFO/scripts/run'),
    entry('EGG-INFO/prefix/share/x'),
    entry('EGG-INFO/post_egginst.py'),
    entry('EGG-INFO/pre_egguninst.py'),
  ]);
  const info = l.items.filter((i) => i.dest.includes('.egg-info/')).map((i) => i.dest.slice(SP.length + 1));
  assert.deepEqual(info.sort(), ['Foo-1.0-1.egg-info/PKG-INFO', 'Foo-1.0-1.egg-info/entry_points.txt', 'Foo-1.0-1.egg-info/top_level.txt']);
  const generated = layout([entry('foo/__init__.py')], { summary: 'the foo\npackage' }).items.find((i) => i.kind === 'generated');
  assert.ok(generated?.kind === 'generated');
  assert.equal(generated.dest, `${SP}/Foo-1.0-1.egg-info/PKG-INFO`);
  assert.equal(generated.content, 'Metadata-Version: 1.1\nName: Foo\nVersion: 1.0\nSummary: the foo package\n');
  // An egg with its own *.egg-info keeps it; an egg that is not Python-specific gets none.
  assert.deepEqual(
    layout([entry('foo.egg-info/PKG-INFO'), entry('EGG-INFO/PKG-INFO')])
      .items.map((i) => i.dest)
      .sort(),
    ['EGG-INFO/foo/PKG-INFO', `${SP}/foo.egg-info/PKG-INFO`],
  );
  assert.equal(layout([entry('foo.egg-info/PKG-INFO')]).items.length, 1);
  assert.deepEqual(
    layout([entry('EGG-INFO/prefix/lib/libx.so'), entry('EGG-INFO/PKG-INFO')]).items.map((i) => i.dest),
    ['lib/libx.so', 'EGG-INFO/foo/PKG-INFO'],
  );
  const py27 = computeLayout({
    id,
    eggName: 'Foo-1.0-1.egg',
    entries: [entry('EGG-INFO/PKG-INFO')],
    pythonVersion: py,
    pythonPath: py,
    python: '2.7',
  });
  assert.deepEqual(
    py27.items.map((i) => i.dest),
    ['EGG-INFO/foo/PKG-INFO', `${SP}/Foo-1.0-1.egg-info/PKG-INFO`],
  );
});

test('targets.dat: its directories, then lib; a line leaving the prefix is refused', () => {
  assert.deepEqual(layout([]).targets, ['lib']);
  assert.deepEqual(layout([], { targetsDat: 'lib/foo/\n\nshare/x\r\n' }).targets, ['lib/foo', 'share/x', 'lib']);
  assert.deepEqual(layout([], { targetsDat: 'lib\nlib/foo\n' }).targets, ['lib', 'lib/foo']);
  refused('METADATA_INVALID', [], { targetsDat: '../outside\n' });
  refused('METADATA_INVALID', [], { targetsDat: '/abs\n' });
});

test('files_to_install.txt makes links, ignores False, warns on Windows forms', () => {
  const l = layout([entry('EGG-INFO/usr/lib/libfoo.so.0.0.0')], {
    filesToInstall:
      'EGG-INFO/usr/lib/libfoo.so                        libfoo.so.0.0.0\nEGG-INFO/usr/bin/x-config False\nEGG-INFO/x.dll PROXY\n',
  });
  const link = l.items.find((i) => i.kind === 'link');
  assert.deepEqual(link && { dest: link.dest, target: link.kind === 'link' && link.target }, {
    dest: 'lib/libfoo.so',
    target: 'libfoo.so.0.0.0',
  });
  assert.equal(l.warnings.length, 1);
});

test('entry points become scripts with the template', () => {
  const l = layout([entry('foo/__init__.py')], {
    entryPoints: '[console_scripts]\nfoo = foo.cli:main\n\n[distutils.commands]\nx = y:z\n[gui_scripts]\nfoo-gui = foo.gui:App.run\n',
  });
  const scripts = l.items.filter((i) => i.kind === 'generated' && i.dest.startsWith('bin/'));
  assert.deepEqual(
    scripts.map((s) => s.dest),
    ['bin/foo', 'bin/foo-gui'],
  );
  const s0 = scripts[0]!;
  assert.ok(s0.kind === 'generated');
  assert.equal(
    s0.content,
    '#!/usr/bin/python3\n# This script was created by egginst when installing: Foo-1.0-1.egg\n' +
      "if __name__ == '__main__':\n    import sys\n    from foo.cli import main\n    sys.exit(main())\n",
  );
  assert.equal(s0.mode, 0o755);
  assert.throws(() => parseEntryPoints('[console_scripts]\n../x = a:b\n', 'e.egg'), /entry_points.txt line 2/);
});

test('scripts are found: python scripts and language-neutral hooks', () => {
  const l = layout([entry('EGG-INFO/post_egginst.py'), entry('EGG-INFO/inst/pre-uninstall')]);
  assert.deepEqual(l.postInstall, { kind: 'python', path: 'EGG-INFO/foo/post_egginst.py' });
  assert.deepEqual(l.preUninstall, { kind: 'exec', path: 'EGG-INFO/foo/inst/pre-uninstall' });
});

const refused = (code: string, entries: ArchiveEntry[], more = {}) =>
  assert.throws(
    () => layout(entries, more),
    (e: unknown) => e instanceof PkgError && e.code === code,
  );

test('refuses writes into egginst state, other packages metadata, or the record', () => {
  refused('ARCHIVE_UNSAFE_PATH', [entry('EGG-INFO/prefix/.egginst/lock')]);
  refused('ARCHIVE_UNSAFE_PATH', [entry('EGG-INFO/prefix/.enpkg/state.db')]);
  refused('ARCHIVE_UNSAFE_PATH', [entry('EGG-INFO/prefix/EGG-INFO/other/egginst.json')]);
  refused('ARCHIVE_UNSAFE_PATH', [entry('EGG-INFO/egginst.json')]);
});

test('refuses two entries landing on one path, and a path both file and directory', () => {
  refused('ARCHIVE_DUPLICATE_NAME', [entry('EGG-INFO/usr/bin/x'), entry('EGG-INFO/prefix/bin/x')]);
  refused('ARCHIVE_DUPLICATE_NAME', [entry('EGG-INFO/prefix/a'), entry('EGG-INFO/prefix/a/b')]);
});

test('refuses writing through a link of the same archive', () => {
  refused('ARCHIVE_WRITE_THROUGH_LINK', [
    entry('EGG-INFO/prefix/lib/d', 'link', { linkTarget: 'sub' }),
    entry('EGG-INFO/prefix/lib/d/evil'),
  ]);
});
