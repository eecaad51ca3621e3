import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compareUpstream, compareVersions, parseUpstream, parseVersion, PkgError, versionOf } from 'enpkg';

const v = parseVersion;
const cmp = (a: string, b: string): number => Math.sign(compareVersions(v(a), v(b)));

function assertOrdered(chain: string[]): void {
  for (let i = 0; i + 1 < chain.length; i++) {
    assert.equal(cmp(chain[i]!, chain[i + 1]!), -1, `${chain[i]} < ${chain[i + 1]}`);
    assert.equal(cmp(chain[i + 1]!, chain[i]!), 1, `${chain[i + 1]} > ${chain[i]}`);
  }
}

test('full versions parse as upstream and build (FORMATS 4, vector 1)', () => {
  assert.deepEqual([v('1.3.0-1').upstream, v('1.3.0-1').build], ['1.3.0', 1]);
  assert.deepEqual([v('1.2-3').upstream, v('1.2-3').build], ['1.2', 3]);
  assert.deepEqual([v('1.3.0').upstream, v('1.3.0').build, v('1.3.0').hasBuild], ['1.3.0', 0, false]);
  assert.throws(
    () => v('1.3.0-a'),
    (e: unknown) => e instanceof PkgError && e.code === 'VERSION_INVALID' && /build "a"/.test(e.message),
  );
});

test('builds order full versions with equal upstreams (vector 2)', () => {
  assert.equal(cmp('1.2.0-1', '1.2-1'), 0);
  assert.notEqual(cmp('1.2.0-1', '1.2.0-2'), 0);
  assertOrdered(['1.2.0-1', '1.2.0-2', '1.2.1-1']);
});

test('upstream order and release candidates (vector 3)', () => {
  assertOrdered(['1.2.0', '1.3.0']);
  assertOrdered(['1.3.0rc2', '1.3.0']);
});

test('.dev < a < b < c = rc < final (vector 4)', () => {
  assertOrdered(['1.1.0', '1.2.0.dev1', '1.2.0a1', '1.2.0a2', '1.2.0b1', '1.2.0c1', '1.2.0rc2', '1.2.0']);
  assert.equal(cmp('1.2.0c1', '1.2.0rc1'), 0);
  assertOrdered(['1.2.0', '1.2.0.post1', '1.2.0.post2']);
  assertOrdered(['1.2.0.post1.dev1', '1.2.0.post1']);
  assertOrdered(['1.2.0a1.dev1', '1.2.0a1']);
});

test('unparseable versions compare as strings and below parseable ones (vector 5)', () => {
  assert.equal(cmp('2010k', '2010k'), 0);
  assertOrdered(['2010i', '2010k']);
  assertOrdered(['1.4.0k', '1.3.0']);
  assert.equal(parseUpstream('2010k').key, null);
});

test('trailing zeros are insignificant (vector 6)', () => {
  assertOrdered(['0.9.8', '1.0.1']);
  assert.equal(cmp('1.3.0', '1.3'), 0);
  assert.equal(cmp('1.0.0', '1'), 0);
  assert.equal(cmp('214', '214.0.0'), 0);
  assert.equal(compareUpstream(parseUpstream('1.3.0a1'), parseUpstream('1.3a1.0')), 0);
});

test('versions print back unchanged (vector 7)', () => {
  for (const s of ['1.0.0.dev', '2011g', '0.9.0rc2', '0.0.0']) {
    assert.equal(v(s).text, s);
    assert.equal(v(s).upstream, s);
  }
  assert.equal(v('1.0.0-12').text, '1.0.0-12');
});

test('numbers with leading zeros parse as numbers (ours)', () => {
  assertOrdered(['2024.05.01', '2024.5.2', '2024.06.01', '2024.10.01']);
  assert.equal(cmp('007', '7'), 0);
});

test('invalid versions name the bad part', () => {
  const bad: [string, RegExp][] = [
    ['', /empty/],
    ['1.2 3', /a space is not allowed/],
    ['1,2', /"," is not allowed/],
    ['1-2-3', /more than one "-"/],
    ['1.0-01', /build "01"/],
    ['-1', /empty/],
  ];
  for (const [text, re] of bad) {
    assert.throws(
      () => v(text),
      (e: unknown) => e instanceof PkgError && e.code === 'VERSION_INVALID' && re.test(e.message),
      text,
    );
  }
  assert.throws(() => parseUpstream('1.0-1'), /never contains "-"/);
});

test('versionOf builds a package version', () => {
  const x = versionOf('1.8.1', 2);
  assert.equal(x.text, '1.8.1-2');
  assert.equal(compareVersions(x, v('1.8.1-2')), 0);
  assert.throws(() => versionOf('1.0', -1), PkgError);
});

test('sorting a mixed list gives the documented order', () => {
  const list = ['1.2.0', '2010k', '1.2.0rc2', '1.2.0.dev1', '1.2.0-2', '1.2.0.post1', '1.2.0a1', '1.10', '1.9.9', '2010i'];
  const sorted = list.slice().sort((a, b) => compareVersions(v(a), v(b)));
  assert.deepEqual(sorted, ['2010i', '2010k', '1.2.0.dev1', '1.2.0a1', '1.2.0rc2', '1.2.0', '1.2.0-2', '1.2.0.post1', '1.9.9', '1.10']);
});
