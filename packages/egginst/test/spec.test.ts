import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PkgError } from '../src/errors.js';
import { mergeInfoJson, parsePkgInfo, parseSpecDepend } from '../src/spec.js';

const flake8 = `metadata_version = '1.1'
name = 'flake8'
version = '2.0.0'
build = 2

arch = 'amd64'
platform = 'darwin'
osdist = None
python = '2.7'
packages = [
  'mccabe 0.2.1',
  'pep8 1.4.6',
  'pyflakes 0.7.3',
]
`;

test('spec/depend of a real egg parses as literals', () => {
  const s = parseSpecDepend(flake8);
  assert.equal(s.name, 'flake8');
  assert.equal(s.version, '2.0.0');
  assert.equal(s.build, 2);
  assert.equal(s.arch, 'amd64');
  assert.equal(s.osdist, null);
  assert.equal(s.python, '2.7');
  assert.deepEqual(s.packages, ['mccabe 0.2.1', 'pep8 1.4.6', 'pyflakes 0.7.3']);
});

test('double quotes, comments, empty lists, unknown keys kept', () => {
  const s = parseSpecDepend('# comment\nname = "x"  # trailing\nversion="1"\nbuild = 0\npackages = []\nfoo = True\n');
  assert.equal(s.name, 'x');
  assert.deepEqual(s.packages, []);
  assert.deepEqual(s.extra, { foo: true });
});

for (const [what, text, line] of [
  ['an import', "import os\nname = 'x'\n", 1],
  ['a call', "name = 'x'\nversion = __import__('os').system('id')\n", 2],
  ['an expression', 'build = 1 + 1\n', 1],
  ['a non-string list item', "packages = ['a', 1]\n", 1],
  ['an unterminated string', "name = 'x\n", 1],
  ['a repeated key', "name = 'x'\nname = 'y'\n", 2],
  ['a wrong type', "build = 'one'\n", undefined],
] as const) {
  test(`spec/depend with ${what} is refused, naming the line`, () => {
    assert.throws(
      () => parseSpecDepend(text),
      (e: unknown) => {
        assert.ok(e instanceof PkgError);
        assert.equal(e.code, 'METADATA_INVALID');
        if (line !== undefined) assert.match(e.message, new RegExp(`line ${line}`));
        return true;
      },
    );
  });
}

test('info.json overrides spec/depend key by key', () => {
  const base = parseSpecDepend("name = 'x'\nversion = '1.0'\nbuild = 1\npython = '2.7'\npackages = ['a']\n");
  const { spec, summary } = mergeInfoJson(base, JSON.stringify({ packages: ['b 1.0'], python: null, summary: 'new' }));
  assert.deepEqual(spec.packages, ['b 1.0']);
  assert.equal(spec.python, null);
  assert.equal(spec.name, 'x');
  assert.equal(summary, 'new');
  assert.throws(() => mergeInfoJson(base, '[1]'), /JSON object/);
  assert.throws(() => mergeInfoJson(base, '{"build": -1}'), /build/);
});

test('PKG-INFO headers', () => {
  assert.deepEqual(parsePkgInfo('Metadata-Version: 1.0\nName: Jinja2\nVersion: 2.6\nSummary: templates\n\nName: body'), {
    name: 'Jinja2',
    version: '2.6',
    summary: 'templates',
  });
});
