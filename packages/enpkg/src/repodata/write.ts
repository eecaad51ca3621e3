/**
 * `enpkg repo index DIR`: the eggs of DIR -> `DIR/index.json.zst` (serial one higher than the
 * previous index's), optionally signed (`index.json.zst.sig`) and with Enstaller's `index.json`
 * beside it. Files are replaced by rename (the index first, then its signature).
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
import { entryToJson, INDEX_SCHEMA, type IndexDocument, type IndexEntryJson } from './parse.js';
import { scanEggs, type Refusal } from './scan.js';
import { readPrivateKey, signIndex } from './sign.js';
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

function readPrevious(dir: string): RepoIndex | null {
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

function isoSeconds(d: Date): string {
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

export async function publishIndex(dirArg: string, opts: PublishOptions = {}): Promise<PublishResult> {
  const dir = resolve(dirArg);
  const key: KeyObject | null = opts.signKeyFile ? readPrivateKey(opts.signKeyFile) : null;
  if (opts.expiresDays !== undefined && !(opts.expiresDays > 0)) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `--expires must be a positive number of days, not ${opts.expiresDays}`, {
      hint: 'e.g. --expires 30',
    });
  }
  if (opts.name !== undefined && (opts.name === '' || opts.name.length > 200 || /[\x00-\x1f\x7f]/.test(opts.name))) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `--name ${JSON.stringify(opts.name)} is not a usable repository name`, {
      hint: 'give a short name without control characters',
    });
  }
  const previous = readPrevious(dir);
  const repository = opts.name ?? previous?.repository ?? basename(dir);
  const prevEntries = new Map((previous?.entries ?? []).map((e) => [e.eggName, e] as const));
  const scan = await scanEggs(dir, { previous: prevEntries, repository, ...(opts.reporter ? { reporter: opts.reporter } : {}) });

  const now = opts.now ?? new Date();
  const generated = isoSeconds(now);
  const expires = opts.expiresDays !== undefined ? isoSeconds(new Date(now.getTime() + opts.expiresDays * 86_400_000)) : null;
  const serial = (previous?.serial ?? 0) + 1;
  const header: Omit<IndexDocument, 'packages'> = { schema: INDEX_SCHEMA, repository, serial, generated, ...(expires ? { expires } : {}) };
  const bytes = compressIndex(Buffer.from(serializeIndex(header, scan.entries), 'utf8'));

  const indexFile = join(dir, INDEX_FILE);
  const sigFile = join(dir, SIGNATURE_FILE);
  publishFile(indexFile, bytes);
  if (key) {
    publishFile(sigFile, signIndex(bytes, key));
  } else if (existsSync(sigFile)) {
    rmSync(sigFile, { force: true });
    opts.reporter?.report({
      type: 'warning',
      warning: {
        code: RepoWarningCodes.SIGNATURE_REMOVED,
        message: `${sigFile} removed: it signed the previous index (give --sign KEYFILE to sign this one)`,
        subject: dir,
      },
    });
  }
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
    signatureFile: key ? sigFile : null,
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
  };
}
