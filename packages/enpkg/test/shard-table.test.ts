/**
 * The root's compact shard table: the canonical reader gives what the general JSON path gives (and
 * leaves every other form, and every fault, to it, so errors are the same); lookups; the
 * accepted-root cache file refusing another key, a flipped byte or a truncation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { compressIndex, DEFAULT_SHARD_CAPS, decodeRoot, decompressIndex, PkgError, serializeRoot, type ShardRef } from 'enpkg';
import { decodeAcceptedRoot, encodeAcceptedRoot, readCanonicalRoot, shardTableOf } from '../src/repodata/shard-table.js';

const hex = (s: string): string => createHash('sha256').update(s).digest('hex');
const refs: ShardRef[] = ['numpy', 'mkl', 'a', 'a.b', 'a_b', 'z9', '_x', 'scipy'].map((name, i) => ({
  name,
  sha256: hex(name),
  size: 100 + i * 37,
}));
const header = { repository: 'acme', serial: 42, generated: '2026-12-02T01:09:32Z', expires: '2027-01-01T01:09:32Z' };
const opts = { source: 'the root', caps: DEFAULT_SHARD_CAPS };

interface Doc {
  [key: string]: unknown;
  shards: unknown[];
}
const doc = (): Doc => JSON.parse(decompressIndex(serializeRoot(header, refs), { maxSize: 1 << 20, source: 'x' }).toString('utf8')) as Doc;
const zst = (text: string): Buffer => compressIndex(Buffer.from(text));
const decoded = (bytes: Buffer): { header: Record<string, unknown>; shards: ShardRef[] } => {
  const { shards, ...rest } = decodeRoot(bytes, opts);
  return { header: rest, shards: [...shards.values()] };
};
const sorted = [...refs].sort((a, b) => (a.name < b.name ? -1 : 1));

function refused(text: string, code: string, pattern: RegExp): void {
  assert.throws(
    () => decodeRoot(zst(text), opts),
    (e: unknown) => e instanceof PkgError && e.code === code && pattern.test(e.message),
  );
}

test('the root serializeRoot writes is read by the canonical reader, with the general path giving the same', () => {
  const bytes = serializeRoot(header, refs);
  const json = decompressIndex(bytes, { maxSize: 1 << 20, source: 'x' });
  const canonical = readCanonicalRoot(json, DEFAULT_SHARD_CAPS.maxShardSize);
  assert.ok(canonical, 'the canonical form takes the fast path');
  assert.deepEqual([...canonical.shards.values()], sorted);
  const fast = decoded(bytes);
  assert.deepEqual(fast, { header, shards: sorted });
  // The same document with other spacing, or keys in another order, goes the general way: same result.
  const spaced = JSON.stringify(doc(), null, 2);
  assert.equal(readCanonicalRoot(Buffer.from(spaced), DEFAULT_SHARD_CAPS.maxShardSize), null);
  assert.deepEqual(decoded(zst(spaced)), fast);
  const d = doc();
  const { shards, ...top } = d;
  const reordered = { shards: (shards as ShardRef[]).map((s) => ({ size: s.size, sha256: s.sha256, name: s.name })), ...top };
  assert.deepEqual(decoded(zst(JSON.stringify(reordered))), fast);
  // Unsorted lines are accepted (the general path sorts them).
  assert.deepEqual(decoded(zst(JSON.stringify({ ...d, shards: [...d.shards].reverse() }))), fast);
  // An empty list.
  assert.equal(decodeRoot(serializeRoot(header, []), opts).shards.size, 0);
});

test('every fault is left to the general path, which names it', () => {
  const d = doc();
  const canonical = (shards: unknown[]): string => JSON.stringify({ ...d, shards });
  const first = d.shards[0] as ShardRef;
  refused(canonical([...d.shards, first]), 'INDEX_INVALID', new RegExp(`the package name ${first.name} is listed twice`));
  refused(canonical([{ ...first, sha256: first.sha256.toUpperCase() }]), 'INDEX_INVALID', /"sha256" must be 64 lower-case hex/);
  refused(canonical([{ ...first, name: '.hidden' }]), 'INDEX_INVALID', /"name" must be a lower-case package name/);
  refused(canonical([{ ...first, name: 'NumPy' }]), 'INDEX_INVALID', /"name" must be a lower-case package name/);
  refused(canonical([{ ...first, size: 0 }]), 'INDEX_INVALID', /"size" must be a whole number/);
  refused(canonical([{ ...first, size: 1.5 }]), 'INDEX_INVALID', /"size" must be a whole number/);
  refused(canonical([{ ...first, size: DEFAULT_SHARD_CAPS.maxShardSize + 1 }]), 'INDEX_SHARD_LIMIT', /more than the \d+ allowed/);
  refused(`${canonical(d.shards)} `.replace(/]}\s*$/, ']} x'), 'INDEX_INVALID', /not valid JSON/);
  refused(JSON.stringify({ ...d, serial: -1 }), 'INDEX_INVALID', /"serial" must be a whole number/);
  // A second "shards" member: JSON.parse keeps the last, and so must we.
  const twice = `{"schema":1,"serial":1,"shards":[],"repository":"x","shards":[${JSON.stringify(first)}]}`;
  assert.deepEqual([...decodeRoot(zst(twice), opts).shards.keys()], [first.name]);
  // No member before "shards" but a comma: not JSON.
  refused(`{,"shards":[]}`, 'INDEX_INVALID', /not valid JSON/);
});

test('the table finds every name and only those', () => {
  const t = shardTableOf(refs);
  assert.equal(t.size, refs.length);
  for (const r of refs) {
    assert.ok(t.has(r.name));
    assert.deepEqual(t.get(r.name), r);
  }
  for (const name of ['', 'nump', 'numpyy', 'A', 'mkl ', 'š', 'ǡ', 'z', '__proto__']) assert.equal(t.has(name), false, name);
  assert.deepEqual(
    [...t.keys()],
    sorted.map((r) => r.name),
  );
});

test('the accepted-root file gives back the same root under its key, and nothing when damaged or keyed otherwise', () => {
  const root = { header, shards: shardTableOf(refs), signed: true };
  const file = encodeAcceptedRoot(root, 'key-1');
  const back = decodeAcceptedRoot(file, 'key-1');
  assert.ok(back);
  assert.deepEqual(back.header, header);
  assert.equal(back.signed, true);
  assert.deepEqual([...back.shards.values()], sorted);
  assert.equal(decodeAcceptedRoot(file, 'key-2'), null, 'another key: checked again');
  for (const at of [0, 40, file.length - 100, file.length - 1]) {
    const bad = Buffer.from(file);
    bad[at]! ^= 1;
    assert.equal(decodeAcceptedRoot(bad, 'key-1'), null, `a flipped byte at ${at}`);
  }
  assert.equal(decodeAcceptedRoot(file.subarray(0, file.length - 10), 'key-1'), null, 'truncated');
  assert.equal(decodeAcceptedRoot(Buffer.alloc(0), 'key-1'), null, 'empty');
});
