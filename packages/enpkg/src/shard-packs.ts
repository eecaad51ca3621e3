/**
 * Shard packs: the shards one command fetched, cached as one file (`index/packs/<id>.pack`) instead
 * of hundreds. A cold install that reaches 400 names writes one file, not 400 (each a create, a write
 * and a rename); a warm one opens a few packs instead of 400 files.
 *
 * A pack is
 *
 *   "ENPKGSP1"                       8 bytes
 *   count                            u32 LE
 *   count x (sha256, offset, size)   32 raw bytes, u64 LE, u32 LE: where each shard's bytes are
 *   the shards' bytes
 *
 * and is named by the first 32 hex digits of its own sha256. Nothing in it is trusted: a shard is
 * read by its sha256 and checked against it (a pack torn by a power cut reads as "not cached", so
 * packs are written without fsync). When more than MAX_PACKS are there, the next write merges them
 * into one (copying shard by shard: memory stays at one shard) and removes the old ones; a reader
 * that finds a pack gone reads that as "not cached" too, and fetches the shard again.
 */
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, readdirSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

const MAGIC = Buffer.from('ENPKGSP1', 'latin1');
const ROW = 44;
/** Beyond this many packs, the next write merges them all. */
export const MAX_PACKS = 8;
/** A header claiming more shards than this is damaged (50,000 names x 20 repository states). */
const MAX_COUNT = 1_000_000;
const PACK_NAME = /^[0-9a-f]{32}\.pack$/;

export interface PackedShard {
  readonly pack: string;
  readonly offset: number;
  readonly size: number;
}

/** What the packs of a directory hold, by sha256 (hex); a damaged or vanished pack is left out. */
export function readPackIndex(dir: string): Map<string, PackedShard> {
  const out = new Map<string, PackedShard>();
  for (const name of packNames(dir)) {
    const path = join(dir, name);
    for (const [sha256, ref] of readHeader(path)) if (!out.has(sha256)) out.set(sha256, ref);
  }
  return out;
}

/** The bytes of one packed shard, or null when the pack is gone or shorter than its header says. */
export function readPacked(ref: PackedShard): Buffer | null {
  let fd: number;
  try {
    fd = openSync(ref.pack, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  try {
    const buf = Buffer.allocUnsafe(ref.size);
    let n = 0;
    while (n < ref.size) {
      const got = readSync(fd, buf, n, ref.size - n, ref.offset + n);
      if (got === 0) return null;
      n += got;
    }
    return buf;
  } finally {
    closeSync(fd);
  }
}

/**
 * Write `shards` (sha256 hex -> bytes, already checked) as one new pack in `dir`, then merge every
 * pack into one when there are more than MAX_PACKS. Returns the path of the pack written.
 */
export function writePack(dir: string, shards: ReadonlyMap<string, Uint8Array>): string {
  const rows = [...shards].map(([sha256, bytes]) => ({ sha256, size: bytes.length, read: () => bytes }));
  const path = writeRows(dir, rows);
  const names = packNames(dir);
  if (names.length > MAX_PACKS) mergePacks(dir, names);
  return path;
}

interface Row {
  sha256: string;
  size: number;
  read: () => Uint8Array | null;
}

/** Write a pack of `rows` beside its final name, then rename it there (atomic; no fsync). */
function writeRows(dir: string, rows: Row[]): string {
  const header = Buffer.alloc(12 + rows.length * ROW);
  MAGIC.copy(header, 0);
  header.writeUInt32LE(rows.length, 8);
  let offset = header.length;
  rows.forEach((r, i) => {
    const at = 12 + i * ROW;
    header.write(r.sha256, at, 32, 'hex');
    header.writeBigUInt64LE(BigInt(offset), at + 32);
    header.writeUInt32LE(r.size, at + 40);
    offset += r.size;
  });
  const tmp = join(dir, `.pack.tmp-${process.pid}-${randomBytes(4).toString('hex')}`);
  const hash = createHash('sha256').update(header);
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeAll(fd, header);
    for (const r of rows) {
      const bytes = r.read();
      if (bytes === null || bytes.length !== r.size) throw new Error(`a shard to pack vanished or changed (${r.sha256})`);
      hash.update(bytes);
      writeAll(fd, bytes);
    }
  } catch (e) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw e;
  }
  closeSync(fd);
  const path = join(dir, `${hash.digest('hex').slice(0, 32)}.pack`);
  renameSync(tmp, path);
  return path;
}

/** Merge the named packs into one (each shard once), then remove them. */
function mergePacks(dir: string, names: string[]): void {
  const seen = new Set<string>();
  const rows: Row[] = [];
  for (const name of names) {
    for (const [sha256, ref] of readHeader(join(dir, name))) {
      if (seen.has(sha256)) continue;
      seen.add(sha256);
      rows.push({ sha256, size: ref.size, read: () => readPacked(ref) });
    }
  }
  let merged: string;
  try {
    merged = writeRows(dir, rows);
  } catch {
    // Merging only saves opens. If it cannot be done (another command merged and removed a pack
    // first, no room), the packs stay as they are: every shard in them is still there.
    return;
  }
  for (const name of names) if (join(dir, name) !== merged) rmSync(join(dir, name), { force: true });
}

function packNames(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((n) => PACK_NAME.test(n))
      .sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

/** A pack's rows, checked against its size; empty when it is gone or damaged. */
function readHeader(path: string): Map<string, PackedShard> {
  const out = new Map<string, PackedShard>();
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return out;
    throw e;
  }
  try {
    const size = fstatSync(fd).size;
    const head = Buffer.alloc(12);
    if (readSync(fd, head, 0, 12, 0) !== 12 || !head.subarray(0, 8).equals(MAGIC)) return out;
    const count = head.readUInt32LE(8);
    if (count > MAX_COUNT || 12 + count * ROW > size) return out;
    const table = Buffer.allocUnsafe(count * ROW);
    if (readSync(fd, table, 0, table.length, 12) !== table.length) return out;
    for (let i = 0; i < count; i++) {
      const at = i * ROW;
      const offset = Number(table.readBigUInt64LE(at + 32));
      const len = table.readUInt32LE(at + 40);
      if (offset < 12 + table.length || offset + len > size) return new Map();
      out.set(table.toString('hex', at, at + 32), { pack: path, offset, size: len });
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  let off = 0;
  while (off < data.length) off += writeSync(fd, data, off, data.length - off);
}
