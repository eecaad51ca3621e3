/**
 * Decompression with every check that needs the data itself: the real size must equal the claimed
 * size (never more bytes than claimed are inflated), and the CRC-32 must match. sha256 is computed on
 * the way for the install record. Large entries stream with bounded memory.
 */
import { createHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, fchmodSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import zlib from 'node:zlib';
import { ErrorCodes, PkgError } from './errors.js';
import { bufferReader, relocationPatches, type RelocationContext } from './relocate.js';

/** The fields of an archive entry that extraction needs (see archive.ts). */
export interface DataRef {
  name: string;
  method: 0 | 8;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  dataStart: number;
}

export interface Extracted {
  sha256: string;
  size: number;
  /** Set by a read-back (extract-worker.ts) when the file starts as object code does. */
  object?: boolean;
}

const crc32: (data: Uint8Array, value?: number) => number =
  (zlib as unknown as { crc32?: (d: Uint8Array, v?: number) => number }).crc32 ?? crc32Fallback;

let table: Int32Array | undefined;
function crc32Fallback(data: Uint8Array, value = 0): number {
  if (!table) {
    table = new Int32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c;
    }
  }
  let c = ~value;
  for (let i = 0; i < data.length; i++) c = table[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return ~c >>> 0;
}

function sizeError(file: string, e: DataRef, actual: string): PkgError {
  return new PkgError(ErrorCodes.ARCHIVE_SIZE_MISMATCH, `${file}: entry ${e.name} claims ${e.uncompressedSize} bytes but holds ${actual}`, {
    hint: 'the archive is broken or hostile; nothing was installed',
    details: { file, entry: e.name },
  });
}

function crcError(file: string, e: DataRef, got: number): PkgError {
  return new PkgError(
    ErrorCodes.ARCHIVE_CRC_MISMATCH,
    `${file}: entry ${e.name} fails its CRC-32 check (expected ${hex8(e.crc32)}, got ${hex8(got)})`,
    {
      hint: 'the archive is corrupt; download or build it again',
      details: { file, entry: e.name },
    },
  );
}

function inflateError(file: string, e: DataRef, err: unknown): PkgError {
  return new PkgError(ErrorCodes.ARCHIVE_CORRUPT, `${file}: entry ${e.name} cannot be decompressed: ${(err as Error).message}`, {
    cause: err,
    details: { file, entry: e.name },
  });
}

const CHUNK = 1 << 20;

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

function checkWhole(file: string, e: DataRef, data: Buffer): void {
  if (data.length !== e.uncompressedSize) throw sizeError(file, e, data.length > e.uncompressedSize ? 'more' : `${data.length}`);
  const got = crc32(data);
  if (got !== e.crc32) throw crcError(file, e, got);
}

/** Read a small entry whole, synchronously (metadata, link targets). */
export function inflateEntrySync(fd: number, file: string, e: DataRef, maxSize: number, scratch?: Buffer): Buffer {
  if (e.uncompressedSize > maxSize) {
    throw new PkgError(
      ErrorCodes.ARCHIVE_LIMIT,
      `${file}: entry ${e.name} is ${e.uncompressedSize} bytes, more than the ${maxSize} bytes allowed for it`,
      { details: { file, entry: e.name } },
    );
  }
  const comp = scratch && scratch.length >= e.compressedSize ? scratch.subarray(0, e.compressedSize) : Buffer.allocUnsafe(e.compressedSize);
  if (e.compressedSize > 0 && readSync(fd, comp, 0, e.compressedSize, e.dataStart) !== e.compressedSize) {
    throw inflateError(file, e, new Error('unexpected end of file'));
  }
  let data: Buffer;
  if (e.method === 0) data = comp;
  else {
    try {
      // One output chunk of exactly the claimed size (plus the byte that would betray a lie).
      const size = Math.max(1, e.uncompressedSize) + 1;
      data = zlib.inflateRawSync(comp, { maxOutputLength: size, chunkSize: Math.max(64, Math.min(size, CHUNK)) });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw sizeError(file, e, 'more');
      throw inflateError(file, e, err);
    }
  }
  checkWhole(file, e, data);
  return data;
}

/** Entries up to this many bytes, compressed and expanded, are read and inflated whole; larger ones stream. */
export const WHOLE_LIMIT = 1 << 20;

export function isSmall(e: DataRef): boolean {
  return e.compressedSize <= WHOLE_LIMIT && e.uncompressedSize <= WHOLE_LIMIT;
}

/**
 * Extract a small entry synchronously: for many small files, synchronous calls are about twice as
 * fast as the promise API (no thread-pool round trips). Only for entries that are `isSmall`.
 */
export function extractSmallSync(fd: number, file: string, e: DataRef, dest: string, mode: number, ctx?: RelocationContext): Extracted {
  // Compressed bytes go through one reused buffer: allocation churn is what makes memory grow.
  const data = inflateEntrySync(fd, file, e, Number.MAX_SAFE_INTEGER, (scratch ??= Buffer.allocUnsafe(WHOLE_LIMIT)));
  if (ctx) for (const p of relocationPatches(bufferReader(data), ctx)) p.bytes.copy(data, p.offset);
  const sha256 = createHash('sha256').update(data).digest('hex');
  const out = openSync(dest, 'wx', mode);
  try {
    let off = 0;
    while (off < data.length) off += writeSync(out, data, off, data.length - off, off);
    if ((mode & ~umask) !== mode) fchmodSync(out, mode);
  } finally {
    closeSync(out);
  }
  return { sha256, size: data.length };
}

let scratch: Buffer | undefined;

// The umask, read once: files get their mode at creation and need a chmod only if it masks bits.
const umask = process.umask();

/**
 * Extract a large entry to `dest` (created exclusively, with `mode`) by streaming it, checking size
 * and CRC, and return its sha256. Memory stays bounded whatever the entry's size.
 */
export async function extractLarge(
  fd: number,
  file: string,
  e: DataRef,
  dest: string,
  mode: number,
  ctx?: RelocationContext,
): Promise<Extracted> {
  const out = await open(dest, 'wx', mode);
  let sha256: string;
  try {
    const hash = createHash('sha256');
    await streamInflate(fd, file, e, out, hash);
    if ((mode & ~umask) !== mode) await out.chmod(mode);
    sha256 = hash.digest('hex');
  } finally {
    await out.close();
  }
  return { sha256: (ctx && relocateFile(dest, ctx)) ?? sha256, size: e.uncompressedSize };
}

/** Relocate a file too large to hold in memory in place, by positional reads and writes: its new sha256, or null if unchanged. */
function relocateFile(path: string, ctx: RelocationContext): string | null {
  const fd = openSync(path, 'r+');
  try {
    const size = fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => {
      const b = Buffer.alloc(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, b, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return b.subarray(0, got);
    };
    const patches = relocationPatches({ size, read }, ctx);
    if (patches.length === 0) return null;
    for (const p of patches) writeSync(fd, p.bytes, 0, p.bytes.length, p.offset);
    const hash = createHash('sha256');
    const chunk = Buffer.allocUnsafe(CHUNK);
    for (let at = 0; at < size; ) {
      const n = readSync(fd, chunk, 0, Math.min(CHUNK, size - at), at);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      at += n;
    }
    return hash.digest('hex');
  } finally {
    closeSync(fd);
  }
}

/** Inflate a large entry chunk by chunk: memory stays bounded whatever the entry's size. */
async function streamInflate(fd: number, file: string, e: DataRef, out: FileHandle, hash: Hash): Promise<void> {
  let crc = 0;
  let produced = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (produced + chunk.length > e.uncompressedSize) return done(sizeError(file, e, 'more'));
      crc = crc32(chunk, crc);
      hash.update(chunk);
      produced += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      if (produced !== e.uncompressedSize) return done(sizeError(file, e, `${produced}`));
      if (crc !== e.crc32) return done(crcError(file, e, crc));
      done();
    },
  });
  const source = createReadStream('', {
    fd,
    start: e.dataStart,
    end: e.dataStart + e.compressedSize - 1,
    autoClose: false,
    highWaterMark: CHUNK,
  });
  let at = 0;
  const sink = new Writable({
    highWaterMark: CHUNK,
    write(chunk: Buffer, _enc, done) {
      out.write(chunk, 0, chunk.length, at).then(() => {
        at += chunk.length;
        done();
      }, done);
    },
  });
  try {
    if (e.method === 8) await pipeline(source, zlib.createInflateRaw({ chunkSize: CHUNK }), check, sink);
    else await pipeline(source, check, sink);
  } catch (err) {
    if (err instanceof PkgError) throw err;
    throw inflateError(file, e, err);
  }
}

/** The sha256 of a file's content; `head` is shown its first bytes (up to 1 MiB). */
export function hashFile(path: string, head?: (first: Buffer) => void): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = openSync(path, 'r');
  try {
    for (let n, first = true; (n = readSync(fd, buf, 0, buf.length, null)) > 0; first = false) {
      if (first) head?.(buf.subarray(0, n));
      hash.update(buf.subarray(0, n));
    }
  } finally {
    closeSync(fd);
  }
  return hash.digest('hex');
}
