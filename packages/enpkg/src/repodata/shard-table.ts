/**
 * The shards a root names, held compactly: one buffer of the names (sorted, ASCII), their offsets,
 * one buffer of the binary sha256 digests and one array of the sizes - about 52 bytes a name, against
 * some 250 for a Map of objects and strings, and no object on the heap per name (a 50,000-name root
 * is 2.5 MiB, not 10 to 15 MiB, and nothing for the garbage collector to trace). Lookups are binary
 * searches; a `ShardRef` is built only for a name asked for.
 *
 * Also the reading of a root's `"shards"` list in the form `serializeRoot` writes (canonical JSON:
 * no whitespace, keys in order, names sorted): straight from the decompressed bytes, without a
 * string of the document or an object per line. Anything else - other spacing or key order, an
 * unsorted or repeated name, a bad line - is left to the general path (JSON.parse), which gives the
 * same result or the same error: this is only a faster way to the same answer.
 *
 * And the accepted-root cache file: a root whose signature and lines were checked, in this compact
 * form, under a key naming what it was checked against (the root's and the signature's sha256, the
 * trusted keys, the caps), with a sha256 of its own bytes so that a torn file reads as absent.
 */
import { createHash } from 'node:crypto';
import type { IndexHeader } from './parse.js';

/** One line of the root: a package name (lower-cased key) and its shard. */
export interface ShardRef {
  readonly name: string;
  readonly sha256: string;
  readonly size: number;
}

/** The shards of a root, by name (a read-only subset of a Map's interface). */
export interface ShardTable {
  readonly size: number;
  has(name: string): boolean;
  get(name: string): ShardRef | undefined;
  /** Every name, in byte order. */
  keys(): IterableIterator<string>;
  values(): IterableIterator<ShardRef>;
}

interface Columns {
  readonly count: number;
  /** The names one after another, ASCII, sorted. */
  readonly names: Buffer;
  /** count + 1 offsets into `names`. */
  readonly offsets: Uint32Array;
  /** 32 bytes per name. */
  readonly hashes: Buffer;
  readonly sizes: Float64Array;
}

const COLUMNS: unique symbol = Symbol('columns');
type Table = ShardTable & { readonly [COLUMNS]: Columns };

/** Package names as a root may hold them: `[a-z0-9_][a-z0-9_.]{0,199}`. */
export const SHARD_NAME = /^[a-z0-9_][a-z0-9_.]{0,199}$/;
const MAX_NAME = 200;

function tableOf(c: Columns): Table {
  const { count, names, offsets, hashes, sizes } = c;
  /** Index of `name`, or -1. */
  const find = (name: string): number => {
    if (!SHARD_NAME.test(name)) return -1;
    let lo = 0;
    let hi = count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = offsets[mid]!;
      const len = offsets[mid + 1]! - start;
      let cmp = 0;
      const n = Math.min(len, name.length);
      for (let i = 0; i < n && cmp === 0; i++) cmp = names[start + i]! - name.charCodeAt(i);
      if (cmp === 0) cmp = len - name.length;
      if (cmp === 0) return mid;
      if (cmp < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
  const nameAt = (i: number): string => names.toString('latin1', offsets[i]!, offsets[i + 1]!);
  const refAt = (i: number, name = nameAt(i)): ShardRef => ({
    name,
    sha256: hashes.toString('hex', i * 32, i * 32 + 32),
    size: sizes[i]!,
  });
  function* keys(): IterableIterator<string> {
    for (let i = 0; i < count; i++) yield nameAt(i);
  }
  function* values(): IterableIterator<ShardRef> {
    for (let i = 0; i < count; i++) yield refAt(i);
  }
  return {
    [COLUMNS]: c,
    size: count,
    has: (name) => find(name) >= 0,
    get(name) {
      const i = find(name);
      return i < 0 ? undefined : refAt(i, name);
    },
    keys,
    values,
  };
}

/** Growable columns for the readers below. */
function builder(capacity: number) {
  let cap = Math.max(16, capacity);
  let names = Buffer.allocUnsafe(cap * 12);
  let offsets = new Uint32Array(cap + 1);
  let hashes = Buffer.allocUnsafe(cap * 32);
  let sizes = new Float64Array(cap);
  let count = 0;
  let used = 0;
  const grow = (nameBytes: number): void => {
    if (count === cap) {
      cap *= 2;
      const o = new Uint32Array(cap + 1);
      o.set(offsets);
      offsets = o;
      const h = Buffer.allocUnsafe(cap * 32);
      hashes.copy(h);
      hashes = h;
      const s = new Float64Array(cap);
      s.set(sizes);
      sizes = s;
    }
    if (used + nameBytes > names.length) {
      const b = Buffer.allocUnsafe(Math.max(names.length * 2, used + nameBytes));
      names.copy(b, 0, 0, used);
      names = b;
    }
  };
  return {
    /** Append a name given as bytes of `src` and a digest given as 64 lower-case hex digits of `src` (checked). */
    addFromBytes(src: Uint8Array, nameStart: number, nameEnd: number, hexStart: number, size: number): void {
      grow(nameEnd - nameStart);
      for (let i = nameStart; i < nameEnd; i++) names[used++] = src[i]!;
      for (let i = 0, h = count * 32; i < 32; i++)
        hashes[h + i] = (nibble(src[hexStart + 2 * i]!) << 4) | nibble(src[hexStart + 2 * i + 1]!);
      sizes[count] = size;
      offsets[++count] = used;
    },
    add(ref: ShardRef): void {
      grow(ref.name.length);
      used += names.write(ref.name, used, 'latin1');
      hashes.write(ref.sha256, count * 32, 32, 'hex');
      sizes[count] = ref.size;
      offsets[++count] = used;
    },
    /** The finished table: views of the columns (the capacity is estimated closely, so little is wasted). */
    done(): Table {
      return tableOf({
        count,
        names: names.subarray(0, used),
        offsets: offsets.subarray(0, count + 1),
        hashes: hashes.subarray(0, count * 32),
        sizes: sizes.subarray(0, count),
      });
    },
  };
}

/** A table of refs already checked (names valid and unique), in any order. */
export function shardTableOf(refs: Iterable<ShardRef>): ShardTable {
  const list = [...refs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const b = builder(list.length);
  for (const r of list) b.add(r);
  return b.done();
}

const SHARDS_KEY = Buffer.from(',"shards":[');
const LINE_NAME = Buffer.from('{"name":"');
const LINE_SHA = Buffer.from('","sha256":"');
const LINE_SIZE = Buffer.from('","size":');
const Q = 0x22;
/** `lit` at `pos` of `buf` (a byte loop: the hot path makes three of these a line). */
const at = (buf: Uint8Array, pos: number, lit: Uint8Array): boolean => {
  if (buf.length - pos < lit.length) return false;
  for (let i = 0; i < lit.length; i++) if (buf[pos + i] !== lit[i]) return false;
  return true;
};
const nameByte = (c: number): boolean => (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x5f || c === 0x2e;
const hexByte = (c: number): boolean => (c >= 0x61 && c <= 0x66) || (c >= 0x30 && c <= 0x39);
const nibble = (c: number): number => (c <= 0x39 ? c - 0x30 : c - 0x57);
/** Byte order of two ranges of `buf`: negative, 0 or positive. */
const compareRanges = (buf: Uint8Array, a: number, aEnd: number, b: number, bEnd: number): number => {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) {
    const d = buf[a + i]! - buf[b + i]!;
    if (d !== 0) return d;
  }
  return aEnd - a - (bEnd - b);
};

/**
 * A decompressed root in the canonical form: its top-level members but `shards` (as JSON.parse would
 * give them) and its shards; or null when the bytes are in any other form, or a line would be refused
 * (a bad name, hash or size, a size over `maxShardSize`, names out of order or repeated): the caller
 * then reads it the general way, which gives the same answer or names the fault.
 */
export function readCanonicalRoot(json: Buffer, maxShardSize: number): { top: Record<string, unknown>; shards: ShardTable } | null {
  const cut = json.indexOf(SHARDS_KEY);
  if (cut < 1 || json[0] !== 0x7b) return null;
  let top: unknown;
  try {
    top = JSON.parse(`${json.toString('utf8', 0, cut)}}`);
  } catch {
    return null;
  }
  // At least one member before `shards` (else the text was `{,"shards"`), and no other `shards`.
  if (top === null || typeof top !== 'object' || Array.isArray(top) || Object.keys(top).length === 0 || Object.hasOwn(top, 'shards')) {
    return null;
  }
  const b = builder(Math.ceil(json.length / 100));
  let p = cut + SHARDS_KEY.length;
  let prevStart = -1;
  let prevEnd = -1;
  if (json[p] !== 0x5d) {
    for (;;) {
      if (!at(json, p, LINE_NAME)) return null;
      p += LINE_NAME.length;
      const nameStart = p;
      if (json[p] === 0x2e) return null;
      while (p < json.length && nameByte(json[p]!)) p++;
      const nameEnd = p;
      if (nameEnd === nameStart || nameEnd - nameStart > MAX_NAME || json[p] !== Q) return null;
      if (prevStart >= 0 && compareRanges(json, prevStart, prevEnd, nameStart, nameEnd) >= 0) return null;
      if (!at(json, p, LINE_SHA)) return null;
      p += LINE_SHA.length;
      const hexStart = p;
      for (const end = p + 64; p < end; p++) if (!hexByte(json[p] ?? 0)) return null;
      if (!at(json, p, LINE_SIZE)) return null;
      p += LINE_SIZE.length;
      // A JSON integer without a leading zero, of at most 15 digits (always a safe integer).
      const digits = p;
      if (!(json[p]! >= 0x31 && json[p]! <= 0x39)) return null;
      let size = 0;
      while (p < json.length && json[p]! >= 0x30 && json[p]! <= 0x39 && p - digits < 16) size = size * 10 + (json[p++]! - 0x30);
      if (p - digits > 15 || size > maxShardSize || json[p] !== 0x7d) return null;
      p++;
      b.addFromBytes(json, nameStart, nameEnd, hexStart, size);
      prevStart = nameStart;
      prevEnd = nameEnd;
      if (json[p] === 0x2c) p++;
      else break;
    }
  }
  if (p + 2 !== json.length || json[p] !== 0x5d || json[p + 1] !== 0x7d) return null;
  return { top: top as Record<string, unknown>, shards: b.done() };
}

/** A root whose signature, lines, caps were checked: what the accepted-root cache file holds. */
export interface AcceptedRoot {
  readonly header: IndexHeader;
  readonly shards: ShardTable;
  /** Its signature was verified against a configured key. */
  readonly signed: boolean;
}

const MAGIC = Buffer.from('ENPKG-ROOT-TABLE-1\n');

/** The cache file's bytes: magic, a JSON line (key, header, counts), the columns, sha256 of all before. */
export function encodeAcceptedRoot(root: AcceptedRoot, key: string): Buffer {
  const c = (root.shards as Table)[COLUMNS];
  const head = Buffer.from(
    `${JSON.stringify({ key, signed: root.signed, header: root.header, count: c.count, namesLength: c.names.length })}\n`,
  );
  const parts = [
    MAGIC,
    head,
    c.names,
    new Uint8Array(c.offsets.buffer, c.offsets.byteOffset, c.offsets.byteLength),
    c.hashes,
    new Uint8Array(c.sizes.buffer, c.sizes.byteOffset, c.sizes.byteLength),
  ];
  // One buffer, the digest of its body written into its last 32 bytes (no second copy).
  const length = parts.reduce((n, p) => n + p.length, 0);
  const out = Buffer.allocUnsafe(length + 32);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  createHash('sha256').update(out.subarray(0, length)).digest().copy(out, length);
  return out;
}

/** The accepted root in a cache file, or null when the file is damaged or was made under another key. */
export function decodeAcceptedRoot(bytes: Buffer, key: string): AcceptedRoot | null {
  if (bytes.length < MAGIC.length + 32 || !at(bytes, 0, MAGIC)) return null;
  const body = bytes.subarray(0, bytes.length - 32);
  if (
    !createHash('sha256')
      .update(body)
      .digest()
      .equals(bytes.subarray(bytes.length - 32))
  )
    return null;
  const nl = body.indexOf(0x0a, MAGIC.length);
  if (nl < 0) return null;
  let head: { key?: unknown; signed?: unknown; header?: IndexHeader; count?: unknown; namesLength?: unknown };
  try {
    head = JSON.parse(body.toString('utf8', MAGIC.length, nl)) as typeof head;
  } catch {
    return null;
  }
  const { count, namesLength, header } = head;
  if (head.key !== key || typeof count !== 'number' || typeof namesLength !== 'number' || typeof header !== 'object') return null;
  let p = nl + 1;
  if (body.length !== p + namesLength + (count + 1) * 4 + count * 32 + count * 8) return null;
  /** The next `into.byteLength` bytes copied into `into` (fresh, so aligned for the typed arrays). */
  const take = <T extends Uint8Array | Uint32Array | Float64Array>(into: T): T => {
    new Uint8Array(into.buffer, into.byteOffset, into.byteLength).set(body.subarray(p, p + into.byteLength));
    p += into.byteLength;
    return into;
  };
  const names = take(Buffer.alloc(namesLength));
  const offsets = take(new Uint32Array(count + 1));
  const hashes = take(Buffer.alloc(count * 32));
  const sizes = take(new Float64Array(count));
  return { header, signed: head.signed === true, shards: tableOf({ count, names, offsets, hashes, sizes }) };
}
