/**
 * `enpkg repo index DIR`: the eggs of DIR -> `DIR/index.json.zst` (serial one higher than the
 * previous index's), optionally signed (`index.json.zst.sig`) and with Enstaller's `index.json`
 * beside it, then the sharded form of the same entries and serial (write-shards.ts). Files are
 * replaced by rename (the index first, then its signature; shards, the root's signature, the root).
 */
import { existsSync, rmSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { KeyObject } from 'node:crypto';
import { asPkgError, writeFileDurably } from 'egginst/core';
import { PkgError } from '../errors.js';
import { readFailure, readRegularFileSync } from '../readfile.js';
import { RepoErrorCodes, RepoWarningCodes } from '../repo/errors.js';
import { INDEX_FILE, LEGACY_INDEX_FILE, SIGNATURE_FILE } from '../repo/fetch.js';
import type { IndexEntry, RepoIndex } from '../repo/types.js';
import type { Reporter } from '../report.js';
import { decodeIndex } from './decode.js';
import { entryToJson, INDEX_SCHEMA, type IndexDocument, type IndexEntryJson, type IndexHeader } from './parse.js';
import { scanEggs, type Refusal } from './scan.js';
import { readPrivateKey, signIndex } from './sign.js';
import { createShardWriter, DEFAULT_SHARD_GRACE_DAYS, groupByName, readPreviousRoot, type ShardedResult } from './write-shards.js';
import { compressIndex } from './zstd.js';

export interface PublishOptions {
  /** A private key file (`enpkg repo keygen`): also write index.json.zst.sig. */
  readonly signKeyFile?: string | undefined;
  /** The index expires this many days after it is generated. */
  readonly expiresDays?: number | undefined;
  /** Also write Enstaller's index.json. */
  readonly legacyJson?: boolean | undefined;
  /** The index's `repository` field (default: the previous index's, else the directory's name). */
  readonly name?: string | undefined;
  /** Days a shard no longer named by the root is kept (default DEFAULT_SHARD_GRACE_DAYS; 0: removed at once). */
  readonly shardGraceDays?: number | undefined;
  readonly now?: Date;
  readonly reporter?: Reporter | undefined;
}

export interface PublishResult {
  readonly dir: string;
  readonly indexFile: string;
  readonly signatureFile: string | null;
  readonly legacyFile: string | null;
  readonly repository: string;
  readonly serial: number;
  readonly generated: string;
  readonly expires: string | null;
  readonly packages: number;
  readonly read: number;
  readonly reused: number;
  /** Entries of the previous index whose egg is gone. */
  readonly removed: number;
  readonly refused: Refusal[];
  /** The sharded form written beside the index. */
  readonly sharded: ShardedResult;
}

const MAX_PREVIOUS_SIZE = 2 ** 31 - 1;

/** Replace a file of the repository whole (rename), durably; a failure names the file. */
function publishFile(path: string, data: Uint8Array | string): void {
  try {
    writeFileDurably(path, data);
  } catch (e) {
    throw asPkgError(e, `writing ${path}`);
  }
}

export function readPrevious(dir: string): RepoIndex | null {
  const file = join(dir, INDEX_FILE);
  let bytes: Buffer;
  try {
    bytes = readRegularFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `the previous index ${file} cannot be read: ${readFailure(e)}`, {
      hint: `replace or remove ${file}: it must be the regular file "enpkg repo index" wrote`,
      cause: e,
      details: { file },
    });
  }
  try {
    return decodeIndex(bytes, { format: 'zst', source: file, repository: '', maxSize: MAX_PREVIOUS_SIZE });
  } catch (e) {
    if (!(e instanceof PkgError)) throw e;
    throw new PkgError(e.code, `the previous index cannot be read: ${e.message}`, {
      hint:
        `move ${file} away to start again from serial 1 ` +
        '(clients that accepted a higher serial will then refuse the new index until it passes it)',
      cause: e,
      details: { file },
    });
  }
}

export function isoSeconds(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** The index document of `entries` (sorted by file name), serialized compactly. */
export function serializeIndex(doc: Omit<IndexDocument, 'packages'>, entries: readonly IndexEntry[]): string {
  const packages: Record<string, IndexEntryJson> = Object.fromEntries(entries.map((e) => [e.eggName, entryToJson(e)]));
  return JSON.stringify({ ...doc, packages });
}

/** Enstaller's index.json: the packages mapping at the top level, lower-case names, md5. */
export function serializeLegacyIndex(entries: readonly IndexEntry[]): string {
  const packages: Record<string, unknown> = Object.create(null);
  for (const e of entries) {
    packages[e.eggName] = {
      available: true,
      build: e.build,
      md5: e.md5,
      mtime: e.mtime,
      name: e.key,
      packages: e.depends,
      product: 'free',
      python: e.python ?? null,
      size: e.size,
      type: 'egg',
      version: e.version,
    };
  }
  return `${JSON.stringify(packages, null, 1)}\n`;
}

/** The options every form of `repo index` shares, checked; the signing key read. */
export function checkPublishOptions(opts: PublishOptions): { key: KeyObject | null; graceDays: number } {
  const key: KeyObject | null = opts.signKeyFile ? readPrivateKey(opts.signKeyFile) : null;
  if (opts.expiresDays !== undefined && !(opts.expiresDays > 0)) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `--expires must be a positive number of days, not ${opts.expiresDays}`, {
      hint: 'e.g. --expires 30',
    });
  }
  const graceDays = opts.shardGraceDays ?? DEFAULT_SHARD_GRACE_DAYS;
  if (!(graceDays >= 0) || !Number.isFinite(graceDays)) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `--shard-grace must be a number of days >= 0, not ${graceDays}`, {
      hint: `e.g. --shard-grace ${DEFAULT_SHARD_GRACE_DAYS}`,
    });
  }
  if (opts.name !== undefined && (opts.name === '' || opts.name.length > 200 || /[\x00-\x1f\x7f]/.test(opts.name))) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `--name ${JSON.stringify(opts.name)} is not a usable repository name`, {
      hint: 'give a short name without control characters',
    });
  }
  return { key, graceDays };
}

/** The index's dates for a publish at `now`. */
export function publishDates(opts: PublishOptions): { now: Date; generated: string; expires: string | null } {
  const now = opts.now ?? new Date();
  const expires = opts.expiresDays !== undefined ? isoSeconds(new Date(now.getTime() + opts.expiresDays * 86_400_000)) : null;
  return { now, generated: isoSeconds(now), expires };
}

/** After index.json.zst is written: its signature, or the removal of a stale one (with a warning). */
export function publishIndexSignature(
  dir: string,
  bytes: Uint8Array,
  key: KeyObject | null,
  reporter: Reporter | undefined,
): string | null {
  const sigFile = join(dir, SIGNATURE_FILE);
  if (key) {
    publishFile(sigFile, signIndex(bytes, key));
    return sigFile;
  }
  if (existsSync(sigFile)) {
    rmSync(sigFile, { force: true });
    reporter?.report({
      type: 'warning',
      warning: {
        code: RepoWarningCodes.SIGNATURE_REMOVED,
        message: `${sigFile} removed: it signed the previous index (give --sign KEYFILE to sign this one)`,
        subject: dir,
      },
    });
  }
  return null;
}

export async function publishIndex(dirArg: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const dir = resolve(dirArg);
  const { key, graceDays } = checkPublishOptions(opts);
  const previous = readPrevious(dir);
  const repository = opts.name ?? previous?.repository ?? basename(dir);
  const prevEntries = new Map((previous?.entries ?? []).map((e) => [e.eggName, e] as const));
  const scan = await scanEggs(dir, { previous: prevEntries, repository, ...(opts.reporter ? { reporter: opts.reporter } : {}) });

  const { now, generated, expires } = publishDates(opts);
  const serial = (previous?.serial ?? 0) + 1;
  const header: Omit<IndexDocument, 'packages'> = { schema: INDEX_SCHEMA, repository, serial, generated, ...(expires ? { expires } : {}) };
  const bytes = compressIndex(Buffer.from(serializeIndex(header, scan.entries), 'utf8'));

  const indexFile = join(dir, INDEX_FILE);
  publishFile(indexFile, bytes);
  const signatureFile = publishIndexSignature(dir, bytes, key, opts.reporter);
  const sharded = publishShards(dir, {
    previous,
    entries: scan.entries,
    reused: scan.reusedNames,
    key,
    graceDays,
    now,
    header: { repository, serial, generated, expires },
  });
  const legacyFile = join(dir, LEGACY_INDEX_FILE);
  if (opts.legacyJson) {
    publishFile(legacyFile, serializeLegacyIndex(scan.entries));
  } else if (existsSync(legacyFile)) {
    opts.reporter?.report({
      type: 'warning',
      warning: {
        code: RepoWarningCodes.LEGACY_INDEX_STALE,
        message: `${legacyFile} was not updated and is now out of date (give --legacy-json to keep it current)`,
        subject: dir,
      },
    });
  }
  const current = new Set(scan.entries.map((e) => e.eggName));
  return {
    dir,
    indexFile,
    signatureFile,
    legacyFile: opts.legacyJson ? legacyFile : null,
    repository,
    serial,
    generated,
    expires,
    packages: scan.entries.length,
    read: scan.read,
    reused: scan.reused,
    removed: [...prevEntries.keys()].filter((k) => !current.has(k)).length,
    refused: scan.refused,
    sharded,
  };
}

/**
 * The sharded form of `entries`. A name keeps its previous shard when the previous root has the
 * previous index's serial and every entry of the name is the previous index's own, unchanged.
 */
function publishShards(
  dir: string,
  o: {
    previous: RepoIndex | null;
    entries: readonly IndexEntry[];
    /** File names whose previous entry was kept unchanged. */
    reused: ReadonlySet<string>;
    key: KeyObject | null;
    graceDays: number;
    now: Date;
    header: IndexHeader;
  },
): ShardedResult {
  const root = readPreviousRoot(dir);
  const prevCount = new Map<string, number>();
  if (root && o.previous && root.serial === o.previous.serial) {
    for (const e of o.previous.entries) prevCount.set(e.key, (prevCount.get(e.key) ?? 0) + 1);
  }
  const writer = createShardWriter(root, { dir, key: o.key, graceDays: o.graceDays, now: o.now });
  try {
    for (const [name, group] of groupByName(o.entries)) {
      writer.add(name, group, prevCount.get(name) === group.length && group.every((e) => o.reused.has(e.eggName)));
    }
    return writer.finish(o.header);
  } catch (e) {
    writer.abandon();
    throw e;
  }
}
