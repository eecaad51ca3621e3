/**
 * The index cache, in the user's cache directory (`cache_dir`, default `$XDG_CACHE_HOME/enpkg` or
 * `~/.cache/enpkg`):
 *
 *   index/<repo-id>/index.json.zst    the last index accepted (exact bytes; index.json for legacy,
 *                                     root.json.zst for a sharded repository)
 *   index/<repo-id>/index.json.zst.sig  its signature, when it had one
 *   index/<repo-id>/meta.json         where it came from, ETag / Last-Modified, sha256, serial
 *   index/<repo-id>/serial.json       the highest serial accepted (rollback protection)
 *   index/<repo-id>/root.table        a sharded repository's root once accepted, compact (shard-table.ts)
 *   index/packs/<id>.pack             shards of sharded repositories, one pack per command that
 *                                     fetched some (shard-packs.ts), found by the sha256 of their
 *                                     bytes (content-addressed, so shared by every repository; never
 *                                     revalidated; checked against that sha256 when read)
 *   index/shards/<sha256>.json.zst    shards as caches before packs held them (still read)
 *
 * `<repo-id>` is derived from the repository's primary location (mirrors share it). Files are
 * replaced by rename, meta.json last: a reader checks the bytes against meta.json's sha256, so a torn
 * update reads as "no cache", never as a wrong index. The serial lives here until the installed
 * state moves to SQLite; `SerialStore` is the seam for that.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from 'egginst/core';
import { cacheReadFailed, cacheWriteFailed } from './fetch/errors.js';
import { NOT_REGULAR, readRegularFileSync } from './readfile.js';
import { locationKey } from './repo/location.js';
import { type PackedShard, readPackIndex, readPacked, writePack } from './shard-packs.js';
import type { RepositoryConfig, SerialStore } from './repo/types.js';

/** What the cached bytes are: an index (ours, Enstaller's) or a sharded repository's root. */
export type CachedFormat = 'zst' | 'legacy' | 'root';

export interface CachedIndexMeta {
  readonly version: 1;
  readonly location: string;
  readonly format: CachedFormat;
  /** The URL (or path) the bytes came from: validators are only sent back there. */
  readonly url: string;
  readonly etag: string | null;
  readonly lastModified: string | null;
  readonly sha256: string;
  readonly size: number;
  readonly hasSignature: boolean;
  /** sha256 of the signature file, so that a re-signed, otherwise unchanged index replaces it. */
  readonly signatureSha256: string | null;
  readonly serial: number;
  readonly repository: string | null;
  readonly fetchedAt: string;
}

export interface CachedIndex {
  readonly meta: CachedIndexMeta;
  readonly bytes: Buffer;
  readonly signature: Buffer | null;
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** `<slug>-<hash>`: readable, and unique per primary location. */
export function repoCacheId(repo: RepositoryConfig): string {
  const key = locationKey(repo.location);
  const text = repo.location.kind === 'dir' ? repo.location.path : repo.location.url.replace(/^https?:\/\//, '');
  const slug =
    text
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(-40) || 'repo';
  return `${slug}-${sha256Hex(Buffer.from(key)).slice(0, 16)}`;
}

/** Files are replaced whole (rename), so a reader sees the old content or the new; failures name the file. */
function replaceFile(path: string, data: Uint8Array | string, durable = true): void {
  try {
    writeFileDurably(path, data, { durable });
  } catch (e) {
    throw cacheWriteFailed(path, e, 'the index cache');
  }
}

function makeDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw cacheWriteFailed(dir, e, 'the index cache');
  }
}

function removeFile(path: string): void {
  try {
    rmSync(path, { force: true });
  } catch (e) {
    throw cacheWriteFailed(path, e, 'the index cache');
  }
}

/** Read from the cache, a failure naming `path`. */
function fromCache<T>(path: string, read: () => T): T {
  try {
    return read();
  } catch (e) {
    throw cacheReadFailed(path, e);
  }
}

/** A cached file's bytes; null when it is absent, or not a regular file (read as damaged: refetched). */
function readOrNull(path: string): Buffer | null {
  try {
    return readRegularFileSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === NOT_REGULAR) return null;
    throw cacheReadFailed(path, e);
  }
}

export interface IndexCache {
  readonly root: string;
  /** The directory of one repository's cached index. */
  dirOf(repo: RepositoryConfig): string;
  readMeta(repo: RepositoryConfig): CachedIndexMeta | null;
  /** The cached index, or null when absent or damaged. */
  read(repo: RepositoryConfig): CachedIndex | null;
  write(repo: RepositoryConfig, entry: CachedIndex): void;
  /** A cached shard's bytes when they are there and hash to `sha256`; null otherwise. */
  readShard(sha256: string): Buffer | null;
  /**
   * Store shards whose bytes were checked against their root (sha256 and size), by sha256. Without any
   * fsync (hundreds at a time): a shard lost or torn by a power cut fails its hash when read, which
   * reads as "not cached" (fetched again), so nothing depends on it being durable.
   */
  writeShards(shards: ReadonlyMap<string, Uint8Array>): void;
  /**
   * The accepted-root file of a sharded repository (repodata/shard-table.ts: the root's checked
   * lines, compact, under a key of what they were checked against), or null when absent.
   */
  readAcceptedRoot(repo: RepositoryConfig): Buffer | null;
  /** Replace it (no fsync: a torn file fails its own hash and reads as absent). */
  writeAcceptedRoot(repo: RepositoryConfig, bytes: Uint8Array): void;
  /** The file the accepted serial is kept in (for messages). */
  serialFile(repo: RepositoryConfig): string;
  readonly serials: SerialStore;
}

const FILES: Readonly<Record<CachedFormat, string>> = { zst: 'index.json.zst', legacy: 'index.json', root: 'root.json.zst' };
const SHARD_FILE = (sha256: string): string => `${sha256}.json.zst`;
const ACCEPTED_ROOT_FILE = 'root.table';

export function openIndexCache(cacheDir: string): IndexCache {
  const root = join(cacheDir, 'index');
  const dirOfId = (id: string): string => join(root, id);
  const dirOf = (repo: RepositoryConfig): string => dirOfId(repoCacheId(repo));
  const packsDir = join(root, 'packs');
  /** What the packs hold, read on the first shard asked for (and again after a write). */
  let packs: Map<string, PackedShard> | null = null;
  /** Whether shards from before packs are there (looked at once). */
  let looseShards: boolean | undefined;

  const readMeta = (repo: RepositoryConfig): CachedIndexMeta | null => {
    const raw = readOrNull(join(dirOf(repo), 'meta.json'));
    if (raw === null) return null;
    try {
      const m = JSON.parse(raw.toString('utf8')) as CachedIndexMeta;
      if (m.version !== 1 || m.location !== locationKey(repo.location) || !Object.hasOwn(FILES, m.format) || typeof m.sha256 !== 'string')
        return null;
      return m;
    } catch {
      return null;
    }
  };

  const serials: SerialStore = {
    accepted(repoId) {
      const raw = readOrNull(join(dirOfId(repoId), 'serial.json'));
      if (raw === null) return null;
      try {
        const s = (JSON.parse(raw.toString('utf8')) as { serial?: unknown }).serial;
        return typeof s === 'number' && Number.isSafeInteger(s) && s >= 0 ? s : null;
      } catch {
        return null;
      }
    },
    accept(repoId, serial, repository) {
      const dir = dirOfId(repoId);
      makeDir(dir);
      replaceFile(join(dir, 'serial.json'), `${JSON.stringify({ serial, repository, acceptedAt: new Date().toISOString() })}\n`);
    },
  };

  return {
    root,
    dirOf,
    readMeta,
    serialFile: (repo) => join(dirOf(repo), 'serial.json'),
    serials,
    read(repo) {
      const meta = readMeta(repo);
      if (meta === null) return null;
      const dir = dirOf(repo);
      const bytes = readOrNull(join(dir, FILES[meta.format]));
      if (bytes === null || bytes.length !== meta.size || sha256Hex(bytes) !== meta.sha256) return null;
      const signature = meta.hasSignature ? readOrNull(join(dir, `${FILES[meta.format]}.sig`)) : null;
      if (meta.hasSignature && signature === null) return null;
      return { meta, bytes, signature };
    },
    write(repo, entry) {
      const dir = dirOf(repo);
      makeDir(dir);
      const file = join(dir, FILES[entry.meta.format]);
      replaceFile(file, entry.bytes);
      if (entry.signature !== null) replaceFile(`${file}.sig`, entry.signature);
      else removeFile(`${file}.sig`);
      replaceFile(join(dir, 'meta.json'), `${JSON.stringify(entry.meta, null, 2)}\n`);
      for (const [format, name] of Object.entries(FILES)) {
        if (format === entry.meta.format) continue;
        removeFile(join(dir, name));
        removeFile(join(dir, `${name}.sig`));
      }
    },
    readAcceptedRoot: (repo) => readOrNull(join(dirOf(repo), ACCEPTED_ROOT_FILE)),
    writeAcceptedRoot(repo, bytes) {
      const dir = dirOf(repo);
      makeDir(dir);
      replaceFile(join(dir, ACCEPTED_ROOT_FILE), bytes, false);
    },
    readShard(sha256) {
      if (!/^[0-9a-f]{64}$/.test(sha256)) return null;
      packs ??= fromCache(packsDir, () => readPackIndex(packsDir));
      const ref = packs.get(sha256);
      if (ref !== undefined) {
        const bytes = fromCache(ref.pack, () => readPacked(ref));
        if (bytes !== null && sha256Hex(bytes) === sha256) return bytes;
      }
      looseShards ??= existsSync(join(root, 'shards'));
      if (!looseShards) return null;
      const bytes = readOrNull(join(root, 'shards', SHARD_FILE(sha256)));
      return bytes !== null && sha256Hex(bytes) === sha256 ? bytes : null;
    },
    writeShards(shards) {
      if (shards.size === 0) return;
      makeDir(packsDir);
      try {
        writePack(packsDir, shards);
      } catch (e) {
        throw cacheWriteFailed(packsDir, e, 'the index cache');
      }
      packs = null;
    },
  };
}
