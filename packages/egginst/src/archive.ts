/**
 * Stage 1: open an archive and validate its structure. yauzl parses the central directory (zip64
 * included); everything an attacker controls beyond that is checked here, before the prefix is
 * touched: names, duplicates and collisions, entry types and modes, methods and encryption, size
 * claims, local headers against central records, overlapping data ranges, entry counts and totals.
 * CRCs and real sizes can only be checked while decompressing (see extract.ts).
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { type ErrorCode, ErrorCodes, PkgError } from './errors.js';
import { inflateEntrySync } from './extract.js';
import { assertSafeName, collisionKey } from './paths.js';
import type { Limits } from './types.js';

export const DEFAULT_LIMITS: Limits = {
  maxEntries: 100_000,
  maxTotalSize: 256 * 2 ** 30,
  maxEntrySize: 64 * 2 ** 30,
  maxMetadataSize: 16 * 2 ** 20,
};

/** Deflate cannot expand more than about 1032:1; a claim beyond this is a lie. */
const MAX_DEFLATE_RATIO = 1100;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const MAX_LINK_TARGET = 4096;

export interface ArchiveEntry {
  index: number;
  /** The validated member name (directories keep their trailing `/`). */
  name: string;
  kind: 'file' | 'dir' | 'link';
  /** Permission bits from the zip's Unix attributes (0 when the archive has none). */
  mode: number;
  method: 0 | 8;
  crc32: number;
  compressedSize: number;
  uncompressedSize: number;
  /** Absolute file offset of the entry's (compressed) data. */
  dataStart: number;
  /** For links: the target, read and checked at open time. */
  linkTarget?: string;
}

export interface Archive {
  path: string;
  fileName: string;
  size: number;
  fd: number;
  entries: ArchiveEntry[];
  byName: Map<string, ArchiveEntry>;
  /** Sum of the uncompressed sizes of regular files. */
  totalSize: number;
  close(): void;
  /** Read a small entry whole (CRC and size checked). */
  readEntry(entry: ArchiveEntry): Buffer;
  readText(name: string): string | undefined;
}

function corrupt(file: string, msg: string, cause?: unknown): PkgError {
  return new PkgError(ErrorCodes.ARCHIVE_CORRUPT, `${file} is not a valid zip archive: ${msg}`, {
    hint: 'download or build the egg again',
    cause,
    details: { file },
  });
}

function entryError(code: ErrorCode, file: string, name: string, msg: string, extra: Record<string, unknown> = {}): PkgError {
  return new PkgError(code, `${file}: entry ${name} ${msg}`, {
    hint: 'the archive is broken or hostile; nothing was installed',
    details: { file, entry: name, ...extra },
  });
}

/**
 * What validation found in an archive, kept (by the package store, keyed by the archive's sha256) so
 * that the same archive opens again without reading its central directory and local headers.
 */
export interface ArchiveListing {
  /** The archive's size in bytes: a listing is used only for a file of this size. */
  size: number;
  totalSize: number;
  entries: Omit<ArchiveEntry, 'index'>[];
}

export function listingOf(archive: Archive): ArchiveListing {
  return { size: archive.size, totalSize: archive.totalSize, entries: archive.entries.map(({ index: _index, ...e }) => e) };
}

/**
 * Open and validate an archive. With `listing` (what validating this very archive found before: the
 * caller vouches for that by the archive's sha256), a file of the listed size is not parsed again;
 * every member read is still checked against its CRC and size.
 */
export async function openArchive(path: string, limits: Limits = DEFAULT_LIMITS, listing?: ArchiveListing): Promise<Archive> {
  const fileName = basename(path);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PkgError(code === 'ENOENT' ? ErrorCodes.FILE_NOT_FOUND : ErrorCodes.IO, `cannot open ${path}: ${(e as Error).message}`, {
      hint: code === 'ENOENT' ? 'check the file name' : undefined,
      cause: e,
      details: { file: path },
    });
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw corrupt(fileName, 'it is not a regular file');
    if (st.size === 0) throw corrupt(fileName, 'the file is empty');
    if (listing && listing.size === st.size) {
      const entries = listing.entries.map((e, index) => ({ ...e, index }));
      return { ...archiveOf(fd, fileName, st.size, entries, listing.totalSize, limits), path };
    }
    const entries = await readCentralDirectory(fd, fileName, st.size, limits);
    const archive = validate(fd, fileName, st.size, entries, limits);
    return { ...archive, path };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Positional reads through one cached block: the central directory's records (two small reads each)
 * and the local headers (two each, in file order) come mostly from the block the last read fetched,
 * one system call per block instead of two per entry.
 */
class BlockReader {
  private block = Buffer.alloc(0);
  private start = 0;
  constructor(
    private readonly fd: number,
    private readonly size: number,
    private readonly blockSize: number,
  ) {}
  /** Read up to `length` bytes at `position` into `buffer`; fewer only at the end of the file. */
  read(buffer: Buffer, offset: number, length: number, position: number): number {
    if (position < this.start || position + length > this.start + this.block.length) {
      const want = Math.min(Math.max(length, this.blockSize), Math.max(0, this.size - position));
      const block = Buffer.allocUnsafe(want);
      let n = 0;
      while (n < want) {
        const got = readSync(this.fd, block, n, want - n, position + n);
        if (got === 0) break;
        n += got;
      }
      this.block = block.subarray(0, n);
      this.start = position;
    }
    const from = position - this.start;
    return this.block.copy(buffer, offset, from, Math.min(from + length, this.block.length));
  }
}

/**
 * yauzl reads the central directory record by record; through the thread pool that is two round
 * trips per entry. The data is usually cached, so read synchronously (through one block) and answer
 * on the next tick (never synchronously: yauzl would recurse once per entry).
 */
class SyncReader extends yauzl.RandomAccessReader {
  private readonly blocks: BlockReader;
  constructor(
    private readonly fd: number,
    size: number,
  ) {
    super();
    this.blocks = new BlockReader(fd, size, 64 * 1024);
  }
  override read(
    buffer: Buffer,
    offset: number,
    length: number,
    position: number,
    callback: (err: Error | null, bytesRead?: number) => void,
  ): void {
    let n = 0;
    let err: Error | null = null;
    try {
      n = this.blocks.read(buffer, offset, length, position);
    } catch (e) {
      err = e as Error;
    }
    process.nextTick(callback, err, n);
  }
  override _readStreamForRange(start: number, end: number): Readable {
    return createReadStream('', { fd: this.fd, start, end: end - 1, autoClose: false });
  }
}

async function readCentralDirectory(fd: number, file: string, size: number, limits: Limits): Promise<yauzl.Entry[]> {
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) => {
    yauzl.fromRandomAccessReader(
      new SyncReader(fd, size),
      size,
      { lazyEntries: true, decodeStrings: false, validateEntrySizes: false, autoClose: false },
      (err, z) => {
        if (err || !z) reject(corrupt(file, err ? err.message : 'unreadable', err));
        else resolve(z);
      },
    );
  });
  if (zip.entryCount > limits.maxEntries) {
    throw new PkgError(ErrorCodes.ARCHIVE_LIMIT, `${file} holds ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`, {
      hint: 'an egg this large is almost certainly broken or hostile',
      details: { file, entries: zip.entryCount, limit: limits.maxEntries },
    });
  }
  if (zip.entryCount === 0) throw new PkgError(ErrorCodes.ARCHIVE_EMPTY, `${file} holds no entries`, { details: { file } });
  return new Promise((resolve, reject) => {
    const out: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      out.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(out));
    zip.on('error', (err: Error) => reject(corrupt(file, err.message, err)));
    zip.readEntry();
  });
}

/** CP437 for the bytes 0x80-0xFF (yauzl's table); 0x00-0x7F are ASCII, as Info-ZIP and Python read them. */
const CP437_HIGH = Array.from({ length: 128 }, (_, i) => yauzl.getFileNameLowLevel(0, Buffer.of(0x80 + i), [], true));

/**
 * An entry's name from its raw bytes: UTF-8 when the flag says so (or an Info-ZIP Unicode Path field
 * gives it), else ASCII with CP437 above 0x7F. Control bytes stay control characters, so the name
 * checks refuse them (yauzl's CP437 would turn 0x0A into a printable glyph).
 */
function decodeName(e: yauzl.Entry, file: string): string {
  const raw = e.fileNameRaw ?? (e.fileName as unknown as Buffer);
  if ((e.generalPurposeBitFlag & 0x800) !== 0) {
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(raw);
    } catch {
      throw entryError(ErrorCodes.ARCHIVE_UNSAFE_PATH, file, raw.toString('latin1'), 'is refused: its name is not valid UTF-8');
    }
  }
  let extra: { id: number; data: Buffer }[] = [];
  try {
    extra = yauzl.parseExtraFields(e.extraFieldRaw);
  } catch (err) {
    throw corrupt(file, `bad extra field: ${(err as Error).message}`, err);
  }
  if (extra.some((f) => f.id === 0x7075)) return yauzl.getFileNameLowLevel(e.generalPurposeBitFlag, raw, extra, true);
  let name = '';
  for (const b of raw) name += b < 0x80 ? String.fromCharCode(b) : CP437_HIGH[b - 0x80]!;
  return name;
}

interface ValidArchive extends Omit<Archive, 'path'> {}

function validate(fd: number, file: string, fileSize: number, raw: yauzl.Entry[], limits: Limits): ValidArchive {
  const entries: ArchiveEntry[] = [];
  const seen = new Map<string, string>();
  let totalSize = 0;
  const header = Buffer.alloc(30);
  // Small: most blocks hold several local headers of small files, and a large file's data is not read.
  const headers = new BlockReader(fd, fileSize, 16 * 1024);
  const ranges: [number, number, string][] = [];
  for (let i = 0; i < raw.length; i++) {
    const e = raw[i]!;
    const name = decodeName(e, file);
    assertSafeName(name, `${file}: entry`);
    const isDirName = name.endsWith('/');
    const key = collisionKey(isDirName ? name.slice(0, -1) : name);
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw entryError(
        ErrorCodes.ARCHIVE_DUPLICATE_NAME,
        file,
        name,
        prev === name ? 'appears twice' : `collides with ${prev} (names differing only in case or Unicode form)`,
        { other: prev },
      );
    }
    seen.set(key, name);
    if ((e.generalPurposeBitFlag & 0x41) !== 0)
      throw entryError(ErrorCodes.ARCHIVE_UNSUPPORTED, file, name, 'is encrypted, which egginst does not support');
    if (e.compressionMethod !== 0 && e.compressionMethod !== 8) {
      throw entryError(
        ErrorCodes.ARCHIVE_UNSUPPORTED,
        file,
        name,
        `uses compression method ${e.compressionMethod}; only stored (0) and deflate (8) are supported`,
      );
    }
    const unixMode = e.versionMadeBy >> 8 === 3 ? e.externalFileAttributes >>> 16 : 0;
    const type = unixMode & S_IFMT;
    let kind: ArchiveEntry['kind'];
    if (type === S_IFLNK) kind = 'link';
    else if (type === S_IFDIR || (type === 0 && isDirName)) kind = 'dir';
    else if (type === S_IFREG || type === 0) kind = isDirName ? 'dir' : 'file';
    else {
      const what =
        ({ 4802: 'a character device', 14406: 'a block device', 2401: 'a FIFO', 26411: 'a socket' } as Record<number, string>)[type] ??
        `of unknown type ${type.toString(8)}`;
      throw entryError(ErrorCodes.ARCHIVE_SPECIAL_FILE, file, name, `is ${what}; eggs may hold only files, directories and symlinks`);
    }
    if (kind === 'file' && isDirName) throw entryError(ErrorCodes.ARCHIVE_UNSAFE_PATH, file, name, 'is a file whose name ends in "/"');
    if ((unixMode & 0o7000) !== 0 && kind !== 'link') {
      throw entryError(
        ErrorCodes.ARCHIVE_BAD_MODE,
        file,
        name,
        `has mode ${(unixMode & 0o7777).toString(8)}; setuid, setgid and sticky bits are refused`,
      );
    }
    const method = e.compressionMethod as 0 | 8;
    if (method === 0 && e.compressedSize !== e.uncompressedSize) {
      throw entryError(
        ErrorCodes.ARCHIVE_SIZE_MISMATCH,
        file,
        name,
        `is stored uncompressed but claims ${e.compressedSize} bytes stored and ${e.uncompressedSize} bytes of content`,
      );
    }
    if (method === 8 && e.uncompressedSize > e.compressedSize * MAX_DEFLATE_RATIO + 1024) {
      throw entryError(
        ErrorCodes.ARCHIVE_SIZE_MISMATCH,
        file,
        name,
        `claims ${e.uncompressedSize} bytes from ${e.compressedSize} compressed bytes, which deflate cannot produce`,
      );
    }
    if (e.uncompressedSize > limits.maxEntrySize) {
      throw entryError(
        ErrorCodes.ARCHIVE_LIMIT,
        file,
        name,
        `expands to ${e.uncompressedSize} bytes, more than the limit of ${limits.maxEntrySize}`,
      );
    }
    if (kind === 'link' && (e.uncompressedSize === 0 || e.uncompressedSize > MAX_LINK_TARGET)) {
      throw entryError(ErrorCodes.ARCHIVE_CORRUPT, file, name, `is a symlink with a target of ${e.uncompressedSize} bytes`);
    }
    if (kind === 'file') totalSize += e.uncompressedSize;
    if (totalSize > limits.maxTotalSize) {
      throw new PkgError(ErrorCodes.ARCHIVE_LIMIT, `${file} expands to more than the limit of ${limits.maxTotalSize} bytes`, {
        details: { file, limit: limits.maxTotalSize },
      });
    }
    const dataStart = checkLocalHeader(headers, file, fileSize, e, name, header);
    let end = dataStart + e.compressedSize;
    if ((e.generalPurposeBitFlag & 0x8) !== 0) end += 12; // data descriptor (at least 12 bytes)
    if (end > fileSize) throw entryError(ErrorCodes.ARCHIVE_CORRUPT, file, name, 'extends past the end of the file');
    ranges.push([e.relativeOffsetOfLocalHeader, end, name]);
    entries.push({
      index: i,
      name,
      kind,
      mode: unixMode & 0o777,
      method,
      crc32: e.crc32,
      compressedSize: e.compressedSize,
      uncompressedSize: e.uncompressedSize,
      dataStart,
    });
  }
  ranges.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ranges.length; i++) {
    const [start, , name] = ranges[i]!;
    const [, prevEnd, prevName] = ranges[i - 1]!;
    if (start < prevEnd) {
      throw entryError(ErrorCodes.ARCHIVE_OVERLAP, file, name, `overlaps entry ${prevName} in the archive (their data share bytes)`, {
        other: prevName,
      });
    }
  }
  const archive = archiveOf(fd, file, fileSize, entries, totalSize, limits);
  for (const en of entries) {
    if (en.kind !== 'link') continue;
    const target = inflateEntrySync(fd, file, en, MAX_LINK_TARGET).toString('utf8');
    if (target.includes('\0') || /[\u0000-\u001f\u007f]/.test(target)) {
      throw entryError(ErrorCodes.ARCHIVE_LINK_OUTSIDE, file, en.name, 'is a symlink whose target holds control characters');
    }
    en.linkTarget = target;
  }
  return archive;
}

function archiveOf(fd: number, file: string, size: number, entries: ArchiveEntry[], totalSize: number, limits: Limits): ValidArchive {
  const byName = new Map(entries.map((en) => [en.name, en]));
  return {
    fileName: file,
    size,
    fd,
    entries,
    byName,
    totalSize,
    close: () => closeSync(fd),
    readEntry: (en) => inflateEntrySync(fd, file, en, limits.maxMetadataSize),
    readText: (n) => {
      const en = byName.get(n);
      return en && en.kind === 'file' ? inflateEntrySync(fd, file, en, limits.maxMetadataSize).toString('utf8') : undefined;
    },
  };
}

/** Read the local header of an entry, check it against the central record, return the data offset. */
function checkLocalHeader(fd: BlockReader, file: string, fileSize: number, e: yauzl.Entry, name: string, buf: Buffer): number {
  const off = e.relativeOffsetOfLocalHeader;
  if (off + 30 > fileSize || fd.read(buf, 0, 30, off) !== 30 || buf.readUInt32LE(0) !== 0x04034b50) {
    throw entryError(ErrorCodes.ARCHIVE_HEADER_MISMATCH, file, name, 'has no valid local header where the central directory says it is');
  }
  const flags = buf.readUInt16LE(6);
  const method = buf.readUInt16LE(8);
  const crc = buf.readUInt32LE(14);
  const csize = buf.readUInt32LE(18);
  const usize = buf.readUInt32LE(22);
  const nameLen = buf.readUInt16LE(26);
  const extraLen = buf.readUInt16LE(28);
  const localName = Buffer.alloc(nameLen);
  if (off + 30 + nameLen + extraLen > fileSize || fd.read(localName, 0, nameLen, off + 30) !== nameLen) {
    throw entryError(ErrorCodes.ARCHIVE_CORRUPT, file, name, 'has a local header that runs past the end of the file');
  }
  const centralName = e.fileNameRaw ?? (e.fileName as unknown as Buffer);
  const mismatch = (what: string): never => {
    throw entryError(
      ErrorCodes.ARCHIVE_HEADER_MISMATCH,
      file,
      name,
      `has a local header that disagrees with the central directory (${what})`,
    );
  };
  if (!localName.equals(centralName)) mismatch(`local name ${localName.toString('latin1')}`);
  if (method !== e.compressionMethod) mismatch(`method ${method} vs ${e.compressionMethod}`);
  if ((flags & 0x41) !== (e.generalPurposeBitFlag & 0x41)) mismatch('encryption flags');
  if ((flags & 0x8) === 0) {
    if (crc !== e.crc32) mismatch('CRC-32');
    if (csize !== 0xffffffff && csize !== e.compressedSize) mismatch(`compressed size ${csize} vs ${e.compressedSize}`);
    if (usize !== 0xffffffff && usize !== e.uncompressedSize) mismatch(`size ${usize} vs ${e.uncompressedSize}`);
  }
  return off + 30 + nameLen + extraLen;
}
