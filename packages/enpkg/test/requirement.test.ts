import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequirement, parseVersion, PkgError, satisfies, combineRequirements } from 'enpkg';

const matches = (req: string, version: string, commandLine = false): boolean =>
  satisfies(parseRequirement(req, { commandLine }), parseVersion(version));

test('legacy forms: any version, upstream with any build, exact', () => {
  const any = parseRequirement('numpy');
  assert.deepEqual([any.name, any.key, any.constraints.length, any.text], ['numpy', 'numpy', 0, 'numpy']);
  assert.ok(matches('numpy', '0.1-1'));
  assert.ok(matches('numpy 1.8.0', '1.8.0-1'));
  assert.ok(matches('numpy 1.8.0', '1.8-7'));
  assert.ok(!matches('numpy 1.8.0', '1.8.1-1'));
  assert.ok(matches('numpy 1.8.0-1', '1.8.0-1'));
  assert.ok(!matches('numpy 1.8.0-1', '1.8.0-2'));
  assert.equal(parseRequirement('numpy 1.8.0-1').text, 'numpy 1.8.0-1');
});

test('operator form: every operator, several constraints', () => {
  assert.ok(matches('numpy >= 1.8, < 2.0', '1.9.2-1'));
  assert.ok(!matches('numpy >= 1.8, < 2.0', '2.0-1'));
  assert.ok(!matches('numpy >= 1.8, < 2.0', '1.7-3'));
  assert.ok(matches('numpy == 1.8.0-1', '1.8.0-1'));
  assert.ok(!matches('numpy == 1.8.0-1', '1.8.0-2'));
  assert.ok(matches('numpy != 1.8.0-1', '1.8.0-2'));
  assert.ok(matches('numpy ^= 1.8.0', '1.8-3'));
  assert.ok(!matches('numpy ^= 1.8.0', '1.8.1-1'));
  assert.ok(matches('numpy ^= 1.8.0-5', '1.8.0-1'), '^= ignores the build');
  assert.ok(matches('numpy <= 1.8.0-2', '1.8.0-2'));
  assert.ok(matches('numpy > 1.8', '1.8.0-1'), 'a version without build compares as build 0');
  assert.ok(!matches('numpy <= 1.8', '1.8.0-1'));
  assert.ok(matches('numpy < 1.8', '1.8.0rc1-1'));
  assert.ok(matches('numpy *', '3-1'));
  assert.ok(matches('numpy>=1.8,<2', '1.9-1'), 'spaces are optional');
  assert.equal(parseRequirement('numpy>=1.8,<2').text, 'numpy >= 1.8, < 2');
});

test('== and != without a build compare the upstream only', () => {
  assert.ok(matches('numpy == 1.8.0', '1.8.0-3'));
  assert.ok(matches('numpy == 1.8', '1.8.0-3'));
  assert.ok(!matches('numpy != 1.8.0', '1.8.0-3'));
  assert.ok(matches('numpy != 1.8.0', '1.8.1-1'));
});

test('command-line forms', () => {
  assert.ok(matches('numpy-1.8.0', '1.8.0-4', true));
  assert.ok(matches('numpy-1.8.0-1', '1.8.0-1', true));
  assert.ok(!matches('numpy-1.8.0-1', '1.8.0-2', true));
  assert.equal(parseRequirement('numpy-1.8.0-1', { commandLine: true }).text, 'numpy 1.8.0-1');
  assert.equal(parseRequirement('numpy >= 1.8', { commandLine: true }).text, 'numpy >= 1.8');
  assert.throws(() => parseRequirement('numpy-1.8.0'), /a space, not a dash/);
});

test('names compare case-insensitively', () => {
  const r = parseRequirement('MKL 10.3-1');
  assert.deepEqual([r.name, r.key], ['MKL', 'mkl']);
});

test('errors name the bad part', () => {
  const bad: [string, RegExp][] = [
    ['', /it is empty/],
    ['>= 1.0', /expected a package name at the start, found ">="/],
    ['numpy >=', /missing a version after ">="/],
    ['numpy => 1.0', /unknown operator "=>"/],
    ['numpy = 1.0', /unknown operator "="/],
    ['numpy ~= 1.0', /unknown operator "~="/],
    ['numpy 1.0 2.0', /unexpected "2.0" after the version "1.0"/],
    ['numpy >= 1.0 < 2', /unexpected "<" after ">= 1.0"/],
    ['numpy >= 1.0,', /"," must be followed/],
    ['numpy 1.0-x', /invalid version "1.0-x": the build "x"/],
    ['numpy >= 1.0-1-1', /more than one "-"/],
    ['numpy >= 1.0, foo', /expected an operator .* found "foo"/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => parseRequirement(text),
      (e: unknown) => e instanceof PkgError && e.code === 'REQUIREMENT_INVALID' && re.test(e.message),
      `"${text}" should fail with ${re}`,
    );
  }
});

test('requirements on one name combine', () => {
  const r = combineRequirements([parseRequirement('six >= 1.0'), parseRequirement('six < 2.0')]);
  assert.equal(r.text, 'six >= 1.0, < 2.0');
  assert.ok(satisfies(r, parseVersion('1.5-1')));
  assert.ok(!satisfies(r, parseVersion('2.0-1')));
});
