/**
 * The sharded form of an index (FORMATS section 3, docs/sharded-index.md): one shard per package
 * name, holding every entry of that name, zstd-compressed JSON, stored under the sha256 of its
 * compressed bytes (`shards/<sha256>.json.zst`: its name is its content, so it never changes); and
 * one root naming every shard by hash and size, signed like index.json.zst (`root.json.zst` and
 * `root.json.zst.sig`). Only the root changes when the repository changes.
 *
 * The root lists its shards as an array, so that a name listed twice (JSON objects would silently
 * keep the last) is seen and refused.
 */
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';
import type { IndexEntry } from '../repo/types.js';
import { entryToJson, INDEX_SCHEMA, type IndexHeader, invalid, parseEntries, parseHeader, parseJson, typeName } from './parse.js';
import { readCanonicalRoot, SHARD_NAME, type ShardRef, type ShardTable, shardTableOf } from './shard-table.js';
import { compressIndex, decompressIndex } from './zstd.js';

export type { ShardRef, ShardTable } from './shard-table.js';

export const ROOT_FILE = 'root.json.zst';
export const ROOT_SIGNATURE_FILE = 'root.json.zst.sig';
export const SHARDS_DIR = 'shards';
export const SHARD_EXTENSION = '.json.zst';

/**
 * The root is mostly sha256 hex, which only zstd's optimal parsers pack near its 4 bits a digit:
 * level 16 makes a 50,000-name root about 15% smaller than level 9 (the bytes every client
 * downloads on every change), for a few seconds once per publish. Shards keep the index's level.
 */
export const ROOT_COMPRESSION_LEVEL = 16;

/** Caps of the client; every one can be lowered or raised through the loader's options. */
export const DEFAULT_SHARD_CAPS: ShardCaps = {
  maxRootSize: 64 * 2 ** 20,
  maxShardSize: 16 * 2 ** 20,
  maxShards: 20_000,
};

export interface ShardCaps {
  /** Largest root, compressed or decompressed (bytes). */
  readonly maxRootSize: number;
  /** Largest shard, compressed or decompressed (bytes). */
  readonly maxShardSize: number;
  /** Most shards one command may fetch or read, over every repository. */
  readonly maxShards: number;
}

export interface RootDocument extends IndexHeader {
  /** By name (compact: see shard-table.ts). */
  readonly shards: ShardTable;
}

/** `shards/<sha256>.json.zst`, relative to the repository. */
export function shardPath(sha256: string): string {
  return `${SHARDS_DIR}/${sha256}${SHARD_EXTENSION}`;
}

const SHA256 = /^[0-9a-f]{64}$/;

/** One shard's bytes: `{"schema", "name", "packages": {<egg file name>: entry}}`, entries sorted by file name. */
export function serializeShard(name: string, entries: readonly IndexEntry[]): Buffer {
  const packages: Record<string, unknown> = Object.create(null);
  for (const e of [...entries].sort((a, b) => (a.eggName < b.eggName ? -1 : a.eggName > b.eggName ? 1 : 0))) {
    packages[e.eggName] = entryToJson(e);
  }
  return compressIndex(Buffer.from(JSON.stringify({ schema: INDEX_SCHEMA, name, packages }), 'utf8'));
}

/** The root's bytes; shards sorted by name. */
export function serializeRoot(header: IndexHeader, shards: Iterable<ShardRef>): Buffer {
  const list = [...shards].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const top: Record<string, unknown> = { schema: INDEX_SCHEMA, repository: header.repository, serial: header.serial };
  if (header.generated) top.generated = header.generated;
  if (header.expires) top.expires = header.expires;
  top.shards = list.map((s) => ({ name: s.name, sha256: s.sha256, size: s.size }));
  return compressIndex(Buffer.from(JSON.stringify(top), 'utf8'), ROOT_COMPRESSION_LEVEL);
}

function asObject(doc: unknown, source: string): Record<string, unknown> {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid(source, `expected a JSON object, found ${typeName(doc)}`);
  return doc as Record<string, unknown>;
}

/** Root bytes (signature already checked) to a validated root. */
export function decodeRoot(bytes: Buffer, opts: { readonly source: string; readonly caps: ShardCaps }): RootDocument {
  const { source, caps } = opts;
  const json = decompressIndex(bytes, { maxSize: caps.maxRootSize, source });
  // The form serializeRoot writes is read straight from the bytes; any other, or a fault, the general way.
  const canonical = readCanonicalRoot(json, caps.maxShardSize);
  if (canonical !== null) return { ...parseHeader(canonical.top, source), shards: canonical.shards };
  const top = asObject(parseJson(json.toString('utf8'), source), source);
  const header = parseHeader(top, source);
  const list = top.shards;
  if (!Array.isArray(list)) throw invalid(source, `"shards" must be a list of {name, sha256, size}, not ${typeName(list)}`);
  const shards = new Map<string, ShardRef>();
  for (let i = 0; i < list.length; i++) {
    const s = list[i] as unknown;
    const at = (): string => `"shards"[${i}]`;
    if (s === null || typeof s !== 'object' || Array.isArray(s)) throw invalid(source, `${at()} must be an object, not ${typeName(s)}`);
    const { name, sha256, size } = s as Record<string, unknown>;
    if (typeof name !== 'string' || !SHARD_NAME.test(name)) {
      throw invalid(source, `${at()}: "name" must be a lower-case package name, not ${typeName(name)}`);
    }
    if (typeof sha256 !== 'string' || !SHA256.test(sha256)) {
      throw invalid(source, `${at()} (${name}): "sha256" must be 64 lower-case hex digits, not ${typeName(sha256)}`);
    }
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) {
      throw invalid(source, `${at()} (${name}): "size" must be a whole number of bytes, not ${typeName(size)}`);
    }
    if (size > caps.maxShardSize) {
      throw new PkgError(
        RepoErrorCodes.INDEX_SHARD_LIMIT,
        `${source}: the shard of ${name} is ${size} bytes, more than the ${caps.maxShardSize} allowed`,
        {
          hint: 'the repository is refused as a whole; if that shard really is so large, raise the shard size cap',
          details: { source, name, limit: caps.maxShardSize },
        },
      );
    }
    if (shards.has(name)) {
      throw invalid(
        source,
        `the package name ${name} is listed twice (${at()} and an earlier line): a root names one shard per name`,
        'the root is malformed or hostile and was refused as a whole; the publisher should run "enpkg repo index" again',
      );
    }
    shards.set(name, { name, sha256, size });
  }
  return { ...header, shards: shardTableOf(shards.values()) };
}

/** Shard bytes (size and sha256 already checked against the root) to the entries of `name`. */
export function decodeShard(
  bytes: Buffer,
  opts: { readonly name: string; readonly source: string; readonly repository: string; readonly caps: ShardCaps },
): IndexEntry[] {
  const { source } = opts;
  const doc = asObject(parseJson(decompressIndex(bytes, { maxSize: opts.caps.maxShardSize, source }).toString('utf8'), source), source);
  parseHeader({ schema: doc.schema, serial: 0 }, source);
  if (doc.name !== opts.name) throw invalid(source, `the shard is of ${typeName(doc.name)}, but the root lists it for ${opts.name}`);
  const entries = parseEntries(doc.packages, { format: 'zst', source, repository: opts.repository });
  for (const e of entries) {
    if (e.key !== opts.name) throw invalid(source, `entry ${JSON.stringify(e.eggName)} is not a package named ${opts.name}`);
  }
  return entries;
}
