/**
 * Writing the sharded form of an index, name by name (so that `--from` can stream): each shard goes
 * to `shards/<sha256>.json.zst` unless that file is already there (its name is its content), then
 * the root's signature, then the root, each replaced by rename: a client that reads the new root
 * finds every shard it names. Shards the new root no longer names are kept for a grace period
 * (clients may hold the previous root), then removed.
 *
 * Incremental: a name whose entries are the previous index's, unchanged, keeps the previous root's
 * shard without being serialized again; adding one egg rewrites one shard and the root.
 *
 * Shards are written without an fsync each (there are tens of thousands at scale); the directory is
 * synced once before the root is written durably. A shard torn by a power cut fails its hash on every
 * client, which refuses it; the next `repo index` finds its size wrong and writes it again.
 */
import type { KeyObject } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { asPkgError, fsyncDir, writeFileDurably } from 'egginst/core';
import { sha256Hex } from '../index-cache.js';
import { readRegularFileSync } from '../readfile.js';
import type { IndexEntry } from '../repo/types.js';
import type { IndexHeader } from './parse.js';
import {
  decodeRoot,
  DEFAULT_SHARD_CAPS,
  ROOT_FILE,
  ROOT_SIGNATURE_FILE,
  type RootDocument,
  serializeRoot,
  serializeShard,
  SHARD_EXTENSION,
  type ShardRef,
  SHARDS_DIR,
  shardPath,
} from './shards.js';
import { signIndex } from './sign.js';

/** Days an unreferenced shard is kept by default. */
export const DEFAULT_SHARD_GRACE_DAYS = 2;

export interface ShardedResult {
  readonly rootFile: string;
  readonly signatureFile: string | null;
  readonly shards: number;
  /** Shards serialized and written by this run. */
  readonly written: number;
  /** Shards of the previous root kept as they were. */
  readonly kept: number;
  /** Shards the new root no longer names, kept for the grace period from now. */
  readonly retired: number;
  /** Unreferenced shards past the grace period, removed. */
  readonly removed: number;
}

export interface ShardWriterOptions {
  readonly dir: string;
  readonly key: KeyObject | null;
  readonly graceDays: number;
  readonly now: Date;
}

const SHARD_FILE = new RegExp(`^[0-9a-f]{64}${SHARD_EXTENSION.replaceAll('.', '\\.')}$`);

function publishFile(path: string, data: Uint8Array | string, durable = true): void {
  try {
    writeFileDurably(path, data, { durable });
  } catch (e) {
    throw asPkgError(e, `writing ${path}`);
  }
}

/** The root the directory has now, read without its signature (it is the publisher's own); null when absent or unreadable. */
export function readPreviousRoot(dir: string): RootDocument | null {
  try {
    const bytes = readRegularFileSync(join(dir, ROOT_FILE));
    return decodeRoot(bytes, { source: join(dir, ROOT_FILE), caps: { ...DEFAULT_SHARD_CAPS, maxRootSize: 2 ** 31 - 1 } });
  } catch {
    return null;
  }
}

export interface ShardWriter {
  /**
   * The entries of one name. `unchanged`: they are exactly the previous index's entries of that name,
   * so the previous root's shard may be kept.
   */
  add(name: string, entries: readonly IndexEntry[], unchanged: boolean): void;
  /** Write the root (and its signature), then retire and remove unreferenced shards. */
  finish(header: IndexHeader): ShardedResult;
  /** Remove the shards this writer created (after a failure, before any root named them). */
  abandon(): void;
}

export function createShardWriter(previous: RootDocument | null, opts: ShardWriterOptions): ShardWriter {
  const shardsDir = join(opts.dir, SHARDS_DIR);
  try {
    mkdirSync(shardsDir, { recursive: true });
  } catch (e) {
    throw asPkgError(e, `creating ${shardsDir}`);
  }
  const refs = new Map<string, ShardRef>();
  const created: string[] = [];
  let written = 0;
  let kept = 0;
  const sizeOf = (path: string): number | null => {
    try {
      const st = statSync(path);
      return st.isFile() ? st.size : null;
    } catch {
      return null;
    }
  };

  return {
    add(name, entries, unchanged) {
      const prev = unchanged ? previous?.shards.get(name) : undefined;
      if (prev && sizeOf(join(opts.dir, shardPath(prev.sha256))) === prev.size) {
        refs.set(name, prev);
        kept++;
        return;
      }
      const bytes = serializeShard(name, entries);
      const sha256 = sha256Hex(bytes);
      const path = join(opts.dir, shardPath(sha256));
      if (sizeOf(path) !== bytes.length) {
        publishFile(path, bytes, false);
        created.push(path);
        written++;
      }
      refs.set(name, { name, sha256, size: bytes.length });
    },

    finish(header) {
      try {
        fsyncDir(shardsDir);
      } catch (e) {
        throw asPkgError(e, `syncing ${shardsDir}`);
      }
      const root = serializeRoot(header, refs.values());
      const rootFile = join(opts.dir, ROOT_FILE);
      const sigFile = join(opts.dir, ROOT_SIGNATURE_FILE);
      const before = [rootFile, sigFile].map(mtimeSeconds);
      if (opts.key) publishFile(sigFile, signIndex(root, opts.key));
      else rmSync(sigFile, { force: true });
      publishFile(rootFile, root);
      advanceMtime(rootFile, before[0]!);
      advanceMtime(sigFile, before[1]!);
      const { retired, removed } = collect(shardsDir, refs, previous, opts);
      return { rootFile, signatureFile: opts.key ? sigFile : null, shards: refs.size, written, kept, retired, removed };
    },

    abandon() {
      for (const p of created) rmSync(p, { force: true });
    },
  };
}

function mtimeSeconds(path: string): number | null {
  try {
    return Math.floor(statSync(path).mtimeMs / 1000);
  } catch {
    return null;
  }
}

/**
 * Servers derive validators from the mtime in whole seconds (nginx's ETag and Last-Modified): a root
 * republished within the second of the previous one, at the same size, would answer 304 to a client
 * holding the old one. Its mtime is moved past the previous one's instead.
 */
function advanceMtime(path: string, previous: number | null): void {
  const now = mtimeSeconds(path);
  if (previous === null || now === null || now > previous) return;
  try {
    const t = new Date((previous + 1) * 1000);
    utimesSync(path, t, t);
  } catch (e) {
    throw asPkgError(e, `setting the mtime of ${path}`);
  }
}

/**
 * Shards named by the previous root but not the new one are retired now (their mtime set to now);
 * unreferenced shards (and stray temporary files) whose mtime is older than the grace period go.
 */
function collect(
  shardsDir: string,
  refs: ReadonlyMap<string, ShardRef>,
  previous: RootDocument | null,
  opts: ShardWriterOptions,
): { retired: number; removed: number } {
  const live = new Set([...refs.values()].map((r) => `${r.sha256}${SHARD_EXTENSION}`));
  const before = new Set([...(previous?.shards.values() ?? [])].map((r) => `${r.sha256}${SHARD_EXTENSION}`));
  const deadline = opts.now.getTime() - opts.graceDays * 86_400_000;
  let retired = 0;
  let removed = 0;
  for (const name of readdirSync(shardsDir)) {
    if (live.has(name)) continue;
    const isShard = SHARD_FILE.test(name);
    if (!isShard && !/\.tmp-\d+-[0-9a-f]+$/.test(name)) continue;
    const path = join(shardsDir, name);
    try {
      if (isShard && before.has(name) && opts.graceDays > 0) {
        utimesSync(path, opts.now, opts.now);
        retired++;
      } else if (statSync(path).mtimeMs <= deadline) {
        rmSync(path, { force: true });
        removed++;
      }
    } catch (e) {
      throw asPkgError(e, `retiring ${path}`);
    }
  }
  return { retired, removed };
}

/** Group entries (any order) by package key, keys sorted. */
export function groupByName(entries: readonly IndexEntry[]): Map<string, IndexEntry[]> {
  const groups = new Map<string, IndexEntry[]>();
  for (const e of entries) {
    const g = groups.get(e.key);
    if (g) g.push(e);
    else groups.set(e.key, [e]);
  }
  return new Map([...groups].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
