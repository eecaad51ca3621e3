/**
 * The index cache's shard packs (packages/enpkg/src/shard-packs.ts): the shards one command fetched
 * are one file; reads check every shard against its sha256; many packs are merged into one; a
 * damaged or vanished pack reads as "not cached"; shards cached loose before packs are still read;
 * `cache clean --all` removes them all.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openIndexCache } from 'enpkg';
import { homeEnv, runEnpkg, tempDir } from './helpers/index.js';

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const shards = (from: number, n: number): Map<string, Buffer> =>
  new Map(Array.from({ length: n }, (_, i) => Buffer.from(`shard ${from + i} `.repeat(1 + ((from + i) % 7)))).map((b) => [sha(b), b]));
const packs = (cacheDir: string): string[] => readdirSync(join(cacheDir, 'index', 'packs')).filter((n) => n.endsWith('.pack'));

test('the shards of one write are one pack, read back by sha256; more than 8 packs are merged into one', async (t) => {
  const cacheDir = await tempDir(t);
  const all = new Map<string, Buffer>();
  for (let i = 0; i < 8; i++) {
    const batch = shards(i * 10, 10);
    for (const [k, v] of batch) all.set(k, v);
    openIndexCache(cacheDir).writeShards(batch);
    assert.equal(packs(cacheDir).length, i + 1, `one pack per write (${i + 1})`);
  }
  // The ninth write makes nine packs, more than 8: they become one.
  const last = shards(80, 10);
  for (const [k, v] of last) all.set(k, v);
  const cache = openIndexCache(cacheDir);
  cache.writeShards(last);
  assert.equal(packs(cacheDir).length, 1);
  assert.deepEqual(
    readdirSync(join(cacheDir, 'index', 'packs')).filter((n) => !n.endsWith('.pack')),
    [],
    'no temporary file is left',
  );
  const fresh = openIndexCache(cacheDir);
  for (const [k, v] of all) assert.deepEqual(fresh.readShard(k), v, k);
  assert.equal(fresh.readShard('0'.repeat(64)), null);
});

test('a damaged pack reads as not cached; a shard altered inside a pack fails its hash; loose shards are still read', async (t) => {
  const cacheDir = await tempDir(t);
  const batch = shards(0, 3);
  openIndexCache(cacheDir).writeShards(batch);
  const [name] = packs(cacheDir);
  const path = join(cacheDir, 'index', 'packs', name!);
  const bytes = readFileSync(path);
  const [first, second] = [...batch.keys()];

  // One byte of the second shard's data changed: that shard is refused, the others are read.
  const altered = Buffer.from(bytes);
  altered[altered.length - 1]! ^= 1;
  writeFileSync(path, altered);
  let cache = openIndexCache(cacheDir);
  assert.deepEqual(cache.readShard(first!), batch.get(first!));
  assert.equal(cache.readShard([...batch.keys()][2]!), null);

  // A header that points past the end of the file: the whole pack is ignored.
  writeFileSync(path, bytes.subarray(0, bytes.length - 5));
  cache = openIndexCache(cacheDir);
  for (const k of batch.keys()) assert.equal(cache.readShard(k), null, k);

  // Not a pack at all.
  writeFileSync(path, 'not a pack');
  assert.equal(openIndexCache(cacheDir).readShard(second!), null);

  // A cache from before packs: index/shards/<sha256>.json.zst.
  const loose = join(cacheDir, 'index', 'shards');
  mkdirSync(loose, { recursive: true });
  writeFileSync(join(loose, `${second}.json.zst`), batch.get(second!)!);
  assert.deepEqual(openIndexCache(cacheDir).readShard(second!), batch.get(second!));
});

test('cache clean --all removes the packs, loose shards and accepted roots; the serial stays', async (t) => {
  const dir = await tempDir(t);
  const cacheDir = join(dir, 'cache');
  const cache = openIndexCache(cacheDir);
  cache.writeShards(shards(0, 4));
  const loose = join(cacheDir, 'index', 'shards');
  mkdirSync(loose, { recursive: true });
  const [k, v] = [...shards(10, 1)][0]!;
  writeFileSync(join(loose, `${k}.json.zst`), v);
  const repoDir = join(cacheDir, 'index', 'main-0123456789abcdef');
  mkdirSync(repoDir, { recursive: true });
  for (const f of ['root.json.zst', 'root.json.zst.sig', 'root.table', 'meta.json', 'serial.json']) writeFileSync(join(repoDir, f), '{}');
  const config = join(dir, 'config.yaml');
  writeFileSync(config, `cache_dir: ${JSON.stringify(cacheDir)}\n`);
  const r = await runEnpkg(['cache', 'clean', '--all', '--config', config], { env: homeEnv(dir) });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!existsSync(join(cacheDir, 'index', 'packs')) && !existsSync(loose), 'packs/ and shards/ are gone');
  assert.deepEqual(readdirSync(repoDir), ['serial.json']);
});
