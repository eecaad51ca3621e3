import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, symlinkSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEggName } from '../src/eggname.js';
import { collisionKey, linkStaysInside, normalizeRelative, unsafeNameReason } from '../src/paths.js';

test('unsafe archive names are named with a reason', () => {
  for (const bad of [
    '../x',
    'a/../../x',
    '/etc/x',
    'C:/x',
    'c:x',
    'a\\b',
    'a\nb',
    'a\u0001b',
    'a//b',
    './a',
    'a/./b',
    '',
    'a/..',
    'x\u007f',
    `${'a'.repeat(256)}/b`,
  ]) {
    assert.notEqual(unsafeNameReason(bad), null, `should refuse ${JSON.stringify(bad)}`);
  }
  for (const good of ['a', 'a/b.py', 'EGG-INFO/', 'lib/libfoo.so.1', 'é.py', '.hidden', 'a..b']) {
    assert.equal(unsafeNameReason(good), null, `should accept ${JSON.stringify(good)}`);
  }
});

test('collisions by case and Unicode form', () => {
  assert.equal(collisionKey('Foo.py'), collisionKey('foo.py'));
  assert.equal(collisionKey('\u00e9.py'), collisionKey('e\u0301.py'));
  assert.notEqual(collisionKey('a.py'), collisionKey('b.py'));
});

test('record paths normalise or are refused', () => {
  assert.equal(normalizeRelative('./lib/a.py'), 'lib/a.py');
  assert.equal(normalizeRelative('lib//a/'), 'lib/a');
  assert.equal(normalizeRelative('../etc/passwd'), null);
  assert.equal(normalizeRelative('/etc/passwd'), null);
});

test('link targets are resolved physically, through planned and existing links', (t) => {
  const prefix = mkdtempSync(join(tmpdir(), 'paths-'));
  t.after(() => rmSync(prefix, { recursive: true, force: true }));
  const none = { planned: () => undefined };
  assert.equal(linkStaysInside(prefix, 'lib/libz.so', 'libz.so.1', none), true);
  assert.equal(linkStaysInside(prefix, 'lib/x', '../bin/tool', none), true);
  assert.equal(linkStaysInside(prefix, 'lib/x', '../../etc/passwd', none), false);
  assert.equal(linkStaysInside(prefix, 'lib/x', '/etc/passwd', none), false);
  // b -> . and a -> b/../.. : lexically inside, physically outside.
  const planned = new Map([['lib/b', '.']]);
  assert.equal(linkStaysInside(prefix, 'lib/a', 'b/../..', { planned: (r) => planned.get(r) }), false);
  // The same trick through a link already on disk.
  mkdirSync(join(prefix, 'lib'));
  symlinkSync('.', join(prefix, 'lib/c'));
  assert.equal(linkStaysInside(prefix, 'lib/a', 'c/../..', none), false);
  assert.equal(linkStaysInside(prefix, 'lib/a', 'c/x', none), true);
  // A loop is refused rather than followed forever.
  const loop = new Map([
    ['lib/l1', 'l2'],
    ['lib/l2', 'l1'],
  ]);
  assert.equal(linkStaysInside(prefix, 'lib/a', 'l1', { planned: (r) => loop.get(r) }), false);
});

test('egg file names', () => {
  assert.deepEqual(parseEggName('MKL-10.3-1.egg'), { name: 'MKL', key: 'mkl', version: '10.3', build: 1 });
  assert.deepEqual(parseEggName('nose-1.3.0-1.egg'), { name: 'nose', key: 'nose', version: '1.3.0', build: 1 });
  for (const bad of ['nose-1.3.0.egg', 'nose-1.3.0-01.egg', 'nose-1.3.0-1.zip', '-x-1-1.egg', 'a b-1-1.egg', 'Jinja2-2.6-py2.7.egg'])
    assert.equal(parseEggName(bad), null, bad);
});
