/**
 * The eggs of a repository directory as index entries. Incremental: an egg whose size and mtime
 * match its entry in the previous index keeps that entry without being opened, so adding one egg to
 * a large repository reads one egg. Every other egg is opened through egginst (every archive check),
 * and hashed. An egg that fails is left out, with the reason.
 */
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { type ErrorCode, ErrorCodes, inspectEgg, parseEggName, PkgError } from 'egginst';
import { EnpkgErrorCodes } from '../errors.js';
import { readFailure } from '../readfile.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { parseRequirement } from '../requirement.js';
import type { IndexEntry } from '../repo/types.js';
import type { Reporter } from '../report.js';
import { roomyYoungGeneration } from '../heap.js';

export interface Refusal {
  readonly file: string;
  readonly code: string;
  readonly message: string;
}

export interface ScanResult {
  /** Sorted by file name. */
  readonly entries: IndexEntry[];
  /** Eggs opened and hashed. */
  readonly read: number;
  /** Eggs whose previous entry was kept. */
  readonly reused: number;
  /** Their file names. */
  readonly reusedNames: ReadonlySet<string>;
  readonly refused: Refusal[];
}

export interface ScanOptions {
  /** Entries of the previous index, by file name. */
  readonly previous: ReadonlyMap<string, IndexEntry>;
  /** The repository name written into the entries. */
  readonly repository: string;
  readonly reporter?: Reporter | undefined;
  /** Eggs read at once (default 4). */
  readonly concurrency?: number;
}

const TAG = /^[A-Za-z0-9._+-]{1,40}$/;

async function hashFile(path: string): Promise<{ sha256: string; md5: string }> {
  const sha = createHash('sha256');
  const md5 = createHash('md5');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) {
    sha.update(chunk as Buffer);
    md5.update(chunk as Buffer);
  }
  return { sha256: sha.digest('hex'), md5: md5.digest('hex') };
}

function refusal(file: string, code: ErrorCode, message: string): PkgError {
  return new PkgError(code, message, { details: { file } });
}

/** Open, check and hash one egg; throws PkgError with the reason it cannot be indexed. */
async function readEgg(path: string, fileName: string, size: number, mtime: number, repository: string): Promise<IndexEntry> {
  const meta = await inspectEgg(path, { eggName: fileName });
  const { id, spec } = meta;
  if (spec.name !== undefined && spec.name.toLowerCase() !== id.key) {
    throw refusal(fileName, ErrorCodes.METADATA_MISMATCH, `its metadata names the package ${spec.name}, but the file name says ${id.name}`);
  }
  for (const r of spec.packages) {
    try {
      parseRequirement(r);
    } catch (e) {
      throw refusal(
        fileName,
        (e as PkgError).code ?? EnpkgErrorCodes.REQUIREMENT_INVALID,
        `its requirement list (EGG-INFO/spec/depend "packages"): ${(e as Error).message}`,
      );
    }
  }
  const tags = { python: spec.python ?? null, platform: spec.platform ?? null, arch: spec.arch ?? null };
  for (const [k, v] of Object.entries(tags)) {
    if (v !== null && !TAG.test(v))
      throw refusal(fileName, ErrorCodes.METADATA_INVALID, `its metadata's ${k} ${JSON.stringify(v)} is not a short word`);
  }
  const { sha256, md5 } = await hashFile(path);
  return {
    name: id.name,
    key: id.key,
    version: id.version,
    build: id.build,
    depends: [...spec.packages],
    ...tags,
    eggName: fileName,
    size,
    sha256,
    md5,
    mtime,
    summary: meta.summary ?? null,
    repository,
  };
}

export async function scanEggs(dir: string, opts: ScanOptions): Promise<ScanResult> {
  roomyYoungGeneration();
  let all: string[];
  try {
    all = await readdir(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PkgError(
      code === 'ENOENT' ? ErrorCodes.FILE_NOT_FOUND : ErrorCodes.IO,
      `cannot read the directory ${dir}: ${readFailure(e)}`,
      {
        hint: 'give the directory that holds the eggs',
        cause: e,
        details: { dir },
      },
    );
  }
  const names = all.filter((n) => n.endsWith('.egg')).sort();
  const entries: IndexEntry[] = [];
  const refused: Refusal[] = [];
  let read = 0;
  let reused = 0;
  const reusedNames = new Set<string>();
  let done = 0;
  let next = 0;

  const one = async (fileName: string): Promise<void> => {
    const path = join(dir, fileName);
    try {
      if (parseEggName(fileName) === null) {
        throw refusal(
          fileName,
          ErrorCodes.EGG_NAME_INVALID,
          'not an egg file name of the form <name>-<version>-<build>.egg (a repository holds only such names)',
        );
      }
      // Synchronous: for thousands of unchanged eggs a promise round trip per stat costs more than the stat.
      // A FIFO or device is refused here, before anything opens it (an open would block or read forever).
      const st = statSync(path);
      if (!st.isFile()) throw refusal(fileName, RepoErrorCodes.NOT_A_FILE, 'not a regular file');
      const mtime = st.mtimeMs / 1000;
      const prev = opts.previous.get(fileName);
      if (prev && prev.size === st.size && prev.mtime === mtime && prev.sha256 !== null) {
        entries.push(prev.repository === opts.repository ? prev : { ...prev, repository: opts.repository });
        reused++;
        reusedNames.add(fileName);
        return;
      }
      read++;
      opts.reporter?.report({ type: 'info', message: `reading ${fileName}` });
      entries.push(await readEgg(path, fileName, st.size, mtime, opts.repository));
    } catch (e) {
      if (!(e instanceof PkgError)) {
        refused.push({ file: fileName, code: ErrorCodes.IO, message: readFailure(e) });
        return;
      }
      // egginst's messages start with the file name already.
      const message = e.message.startsWith(fileName) ? e.message.slice(fileName.length).replace(/^[:\s]+/, '') : e.message;
      refused.push({ file: fileName, code: e.code, message });
    } finally {
      done++;
      opts.reporter?.report({ type: 'publish', file: fileName, done, total: names.length });
    }
  };

  const worker = async (): Promise<void> => {
    while (next < names.length) await one(names[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, Math.max(1, names.length)) }, worker));
  entries.sort((a, b) => (a.eggName < b.eggName ? -1 : a.eggName > b.eggName ? 1 : 0));
  refused.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return { entries, read, reused, reusedNames, refused };
}
