/**
 * `enpkg repo index DIR --from INDEX`: both forms of DIR's index built from an existing index file
 * (ours, zstd or plain JSON, or Enstaller's index.json) without reading eggs: the migration path of
 * an existing repository, and how benchmarks make large ones.
 *
 * In bounded memory, whatever the size of INDEX: the file is decompressed and tokenized as a stream
 * (stream-json), each entry is appended to one of BUCKETS temporary files by a hash of its package
 * name, then each bucket (every entry of its names) is validated like any index, grouped by name, and
 * written out: its shards, and its part of index.json.zst through a streaming compressor. Memory
 * holds one bucket and the root's list of names. (Signing index.json.zst reads its compressed bytes
 * once: Ed25519 signs a whole message.)
 *
 * Nothing is published until every entry passed: the new index.json.zst and root are renamed into
 * place at the end, and a refused INDEX removes the shards this run wrote.
 */
import { createHash } from 'node:crypto';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  fsyncSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { asPkgError, fsyncDir, parseEggName } from 'egginst/core';
import Assembler from 'stream-json/assembler.js';
import { parser } from 'stream-json';
import { CompressStream, DecompressStream } from 'zstd-napi';
import { ErrorCodes, PkgError } from '../errors.js';
import { readFailure } from '../readfile.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { INDEX_FILE } from '../repo/fetch.js';
import type { IndexEntry } from '../repo/types.js';
import { entryToJson, INDEX_SCHEMA, invalid, type IndexHeader, parseEntries, parseHeader } from './parse.js';
import { checkPublishOptions, publishDates, publishIndexSignature, type PublishOptions } from './write.js';
import { createShardWriter, readPreviousRoot, type ShardedResult } from './write-shards.js';
import { INDEX_COMPRESSION_LEVEL } from './zstd.js';
import { roomyYoungGeneration } from '../heap.js';

const BUCKETS = 256;
const FLUSH_AT = 1 << 16;

export interface FromIndexResult {
  readonly dir: string;
  readonly from: string;
  readonly indexFile: string;
  readonly signatureFile: string | null;
  readonly repository: string;
  readonly serial: number;
  readonly generated: string;
  readonly expires: string | null;
  readonly packages: number;
  readonly sharded: ShardedResult;
}

type Sink = (fileName: string, value: unknown) => void;

/** The index file as a stream of JSON tokens: zstd (by its magic number) is decompressed on the way. */
function tokens(file: string): NodeJS.ReadableStream {
  let fd: number;
  const magic = Buffer.alloc(4);
  try {
    fd = openSync(file, 'r');
    readSync(fd, magic, 0, 4, 0);
    closeSync(fd);
  } catch (e) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `cannot read the index ${file}: ${readFailure(e)}`, {
      hint: 'give an index.json.zst written by "enpkg repo index", or an Enstaller index.json',
      cause: e,
      details: { file },
    });
  }
  const zstd = magic.readUInt32LE(0) === 0xfd2fb528;
  const p = parser.asStream({ packValues: true, streamValues: false });
  const input = createReadStream(file, { highWaterMark: 1 << 20 });
  const done = zstd ? pipeline(input, new DecompressStream(), p) : pipeline(input, p);
  done.catch((e: unknown) => p.destroy(e as Error));
  return p;
}

interface Token {
  readonly name: string;
  readonly value?: unknown;
}

/**
 * Walk the top-level object: ours has header fields and `packages` (entries), Enstaller's is the
 * entries mapping itself. Entries go to `sink`; the header fields are returned.
 */
async function walk(file: string, sink: Sink): Promise<{ top: Record<string, unknown>; legacy: boolean }> {
  const top: Record<string, unknown> = Object.create(null);
  let depth = 0;
  let key: string | null = null;
  let inPackages = false;
  let asm: InstanceType<typeof Assembler> | null = null;
  let entryName: string | null = null;
  let topName: string | null = null;
  let sawEgg = false;
  let sawHeader = false;
  /** Feed the value being assembled; once it is whole, hand it to its place (an entry to `sink`, a field to `top`). */
  const feed = (a: InstanceType<typeof Assembler>, tok: Token): void => {
    a.consume(tok as never);
    if (!a.done) return;
    if (entryName !== null) sink(entryName, a.current);
    else if (topName !== null) top[topName] = a.current;
    asm = null;
    entryName = topName = null;
  };
  for await (const tok of tokens(file) as AsyncIterable<Token>) {
    if (asm) {
      feed(asm, tok);
      continue;
    }
    if (tok.name === 'startObject' && depth === 0) {
      depth = 1;
      continue;
    }
    if (tok.name === 'keyValue') {
      key = tok.value as string;
      continue;
    }
    if (tok.name === 'endObject') {
      if (inPackages) inPackages = false;
      else depth = 0;
      continue;
    }
    if (depth === 0) throw invalid(file, 'expected a JSON object at the top level');
    // A value starts at `key`.
    if (inPackages || key?.endsWith('.egg')) {
      if (!inPackages) sawEgg = true;
      entryName = key;
    } else if (key === 'packages' && tok.name === 'startObject') {
      sawHeader = true;
      inPackages = true;
      continue;
    } else {
      sawHeader = true;
      topName = key;
    }
    asm = new Assembler();
    feed(asm, tok);
  }
  if (sawEgg && sawHeader) throw invalid(file, 'both egg entries and index fields ("schema", "packages") at the top level');
  return { top, legacy: !sawHeader };
}

/** Our index (both forms) pins every egg by sha256, which an Enstaller index may lack: not made up here. */
function noSha256(from: string, eggName: string): PkgError {
  return new PkgError(RepoErrorCodes.INDEX_ENTRY_INVALID, `${from}: entry ${JSON.stringify(eggName)} has no sha256 (md5 only)`, {
    hint:
      'an index of ours pins every egg by sha256; put the eggs in the directory and run "enpkg repo index DIR" without --from, ' +
      'which reads and hashes them',
    details: { source: from, entry: eggName, field: 'sha256' },
  });
}

function parseFailure(file: string, e: unknown): PkgError {
  if (e instanceof PkgError) return e;
  return invalid(file, `not a valid index: ${(e as Error).message.slice(0, 200)}`);
}

/** Bucket files in a private temporary directory of DIR, written in blocks. */
function openBuckets(dir: string) {
  const tmp = mkdtempSync(join(dir, '.enpkg-from-'));
  const fds = Array.from({ length: BUCKETS }, (_, i) => openSync(join(tmp, String(i)), 'w+'));
  const pending: string[][] = Array.from({ length: BUCKETS }, () => []);
  const sizes = new Array<number>(BUCKETS).fill(0);
  const flush = (i: number): void => {
    if (pending[i]!.length === 0) return;
    writeSync(fds[i]!, pending[i]!.join(''));
    pending[i] = [];
    sizes[i] = 0;
  };
  return {
    add(key: string, line: string): void {
      const i = createHash('sha1').update(key).digest().readUInt16BE(0) % BUCKETS;
      pending[i]!.push(line);
      sizes[i]! += line.length;
      if (sizes[i]! >= FLUSH_AT) flush(i);
    },
    /** Every bucket's lines, one bucket at a time. */
    *read(): Generator<string[]> {
      for (let i = 0; i < BUCKETS; i++) {
        flush(i);
        closeSync(fds[i]!);
        const text = readFileSync(join(tmp, String(i)), 'utf8');
        rmSync(join(tmp, String(i)));
        yield text === '' ? [] : text.slice(0, -1).split('\n');
      }
    },
    remove(): void {
      for (const fd of fds) {
        try {
          closeSync(fd);
        } catch {
          // closed already
        }
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

/** The previous serial of DIR: its root's, else (streamed, entries skipped) its index.json.zst's. */
async function previousHeader(dir: string): Promise<IndexHeader | null> {
  const root = readPreviousRoot(dir);
  if (root) return root;
  const file = join(dir, INDEX_FILE);
  if (!existsSync(file)) return null;
  try {
    const { top } = await walk(file, () => undefined);
    return parseHeader(top, file);
  } catch (e) {
    throw new PkgError(RepoErrorCodes.INDEX_INVALID, `the previous index ${file} cannot be read: ${(e as Error).message}`, {
      hint: `move ${file} away to start again from serial 1`,
      cause: e,
      details: { file },
    });
  }
}

export async function publishFromIndex(dirArg: string, fromArg: string, opts: PublishOptions = {}): Promise<FromIndexResult> {
  roomyYoungGeneration();
  const dir = resolve(dirArg);
  const from = resolve(fromArg);
  const { key, graceDays } = checkPublishOptions(opts);
  if (!existsSync(from)) {
    throw new PkgError(ErrorCodes.FILE_NOT_FOUND, `${from} does not exist`, {
      hint: 'give an index.json.zst written by "enpkg repo index", or an Enstaller index.json',
      details: { file: from },
    });
  }
  // The directory of a new repository (a migration's target) is created.
  try {
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw asPkgError(e, `creating ${dir}`);
  }
  const previous = await previousHeader(dir);
  const buckets = openBuckets(dir);
  const indexFile = join(dir, INDEX_FILE);
  const indexTmp = `${indexFile}.tmp-${process.pid}`;
  let writer: ReturnType<typeof createShardWriter> | null = null;
  let out: CompressStream | null = null;
  let written: Promise<void> | null = null;
  try {
    let count = 0;
    let walked: Awaited<ReturnType<typeof walk>>;
    try {
      walked = await walk(from, (fileName, value) => {
        const id = parseEggName(fileName);
        // A bad name is refused with the index's own message.
        if (id === null) parseEntries({ [fileName]: value }, { format: 'legacy', source: from, repository: '' });
        buckets.add(id!.key, `${JSON.stringify([fileName, value])}\n`);
        count++;
      });
    } catch (e) {
      throw parseFailure(from, e);
    }
    const format = walked.legacy ? 'legacy' : 'zst';
    const input = walked.legacy ? null : parseHeader(walked.top, from);
    const repository = opts.name ?? input?.repository ?? previous?.repository ?? basename(dir);
    const serial = Math.max(previous?.serial ?? 0, input?.serial ?? 0) + 1;
    const { now, generated, expires } = publishDates(opts);
    const header: IndexHeader = { repository, serial, generated, expires };

    const compressor = new CompressStream({ compressionLevel: INDEX_COMPRESSION_LEVEL });
    out = compressor;
    written = pipeline(compressor, createWriteStream(indexTmp));
    const write = (s: string): Promise<void> | undefined =>
      compressor.write(s) ? undefined : new Promise<void>((r) => compressor.once('drain', () => r()));
    const top = { schema: INDEX_SCHEMA, repository, serial, generated, ...(expires ? { expires } : {}) };
    await write(`${JSON.stringify(top).slice(0, -1)},"packages":{`);
    writer = createShardWriter(readPreviousRoot(dir), { dir, key, graceDays, now });
    let first = true;
    for (const lines of buckets.read()) {
      const packages: Record<string, unknown> = Object.create(null);
      for (const line of lines) {
        const [fileName, value] = JSON.parse(line) as [string, unknown];
        if (Object.hasOwn(packages, fileName)) throw invalid(from, `two entries for ${JSON.stringify(fileName)}`);
        packages[fileName] = value;
      }
      const groups = new Map<string, IndexEntry[]>();
      for (const e of parseEntries(packages, { format, source: from, repository })) {
        if (e.sha256 === null) throw noSha256(from, e.eggName);
        const g = groups.get(e.key);
        if (g) g.push(e);
        else groups.set(e.key, [e]);
      }
      for (const name of [...groups.keys()].sort()) {
        const group = groups.get(name)!.sort((a, b) => (a.eggName < b.eggName ? -1 : a.eggName > b.eggName ? 1 : 0));
        writer.add(name, group, false);
        const text = group.map((e) => `${JSON.stringify(e.eggName)}:${JSON.stringify(entryToJson(e))}`).join(',');
        await write(first ? text : `,${text}`);
        first = false;
      }
    }
    compressor.end('}}');
    await written;
    publishRename(indexTmp, indexFile);
    const signatureFile = publishIndexSignature(dir, key ? readFileSync(indexFile) : Buffer.alloc(0), key, opts.reporter);
    const sharded = writer.finish(header);
    return { dir, from, indexFile, signatureFile, repository, serial, generated, expires, packages: count, sharded };
  } catch (e) {
    writer?.abandon();
    out?.destroy();
    await written?.catch(() => undefined);
    rmSync(indexTmp, { force: true });
    throw e;
  } finally {
    buckets.remove();
  }
}

/** The streamed index replaces the previous one once it is on disk. */
function publishRename(tmp: string, path: string): void {
  try {
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    fsyncDir(dirname(path));
  } catch (e) {
    throw asPkgError(e, `writing ${path}`);
  }
}
