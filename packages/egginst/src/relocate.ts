/**
 * Object-code relocation (pure): find the run-time search paths and library names of an ELF or
 * Mach-O file (32/64-bit, either byte order, universal) by parsing its headers, and compute the
 * bytes that replace a `/PLACEHOLD` marker in them with the prefix's own directories. The
 * caller reads the file and writes the patches (see extract-worker.ts). docs/binary-eggs.md.
 */
import { ErrorCodes, PkgError } from './errors.js';
import { unsafeNameReason } from './paths.js';

/** Extensions of files that are never object code: not even their first bytes are looked at. */
export const NOT_OBJECT_CODE = ['.py', '.pyc', '.pyo', '.h', '.a', '.c', '.txt', '.html', '.xml', '.png', '.jpg', '.gif'];

const MARKER = '/PLACEHOLD';
const MIN_REPEATS = 5;

/** Whether an archive member may hold object code (its extension is not a text one). */
export function mayBeObjectCode(name: string): boolean {
  return !NOT_OBJECT_CODE.some((ext) => name.endsWith(ext));
}

export type ObjectFormat = 'elf' | 'macho' | 'fat';

/** The object format announced by a file's first four bytes, or null. */
export function objectFormat(head: Uint8Array): ObjectFormat | null {
  if (head.length < 4) return null;
  const m = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
  if (m === 0x7f454c46) return 'elf';
  if (m === 0xfeedface || m === 0xfeedfacf || m === 0xcefaedfe || m === 0xcffaedfe) return 'macho';
  if (m === 0xcafebabe || m === 0xcafebabf) return 'fat';
  return null;
}

/** Positional reads of the file being relocated; `read` returns exactly `length` bytes. */
export interface ObjectReader {
  size: number;
  read(offset: number, length: number): Buffer;
}

export interface RelocationContext {
  /** The prefix, absolute. */
  prefix: string;
  /** Prefix-relative directories in search order: the lines of targets.dat, then `lib`. */
  targets: string[];
  /** Whether the prefix holds this prefix-relative file once the transaction is done. */
  holds(rel: string): boolean;
  /** For messages: the egg and the member being relocated. */
  eggName: string;
  entry: string;
}

/** Bytes to write at `offset`: the replacement, NUL-padded to the length of the string it replaces (NUL included). */
export interface Patch {
  offset: number;
  bytes: Buffer;
}

interface Found {
  kind: 'rpath' | 'library';
  offset: number;
  /** The string's bytes, without its NUL. */
  bytes: Buffer;
}

/** Every patch the file needs (none when it has no placeholder). Throws when its headers lie. */
export function relocationPatches(r: ObjectReader, ctx: RelocationContext): Patch[] {
  const format = objectFormat(r.size >= 4 ? r.read(0, 4) : Buffer.alloc(0));
  if (!format) return [];
  const found = format === 'elf' ? elfStrings(r, ctx) : format === 'macho' ? machoStrings(r, 0, r.size, ctx) : fatStrings(r, ctx);
  const patches: Patch[] = [];
  for (const f of found) {
    const text = f.bytes.toString('latin1');
    const rest = afterMarker(text);
    if (rest === null) continue;
    const replacement = f.kind === 'rpath' ? rpathFor(rest, ctx) : libraryFor(rest, ctx);
    const bytes = Buffer.from(replacement, 'utf8');
    if (bytes.length > f.bytes.length) {
      throw new PkgError(
        ErrorCodes.RELOCATION_TOO_LONG,
        `${ctx.eggName}: entry ${ctx.entry} has a placeholder of ${f.bytes.length} bytes, ` +
          `but its replacement ${replacement} is ${bytes.length} bytes long`,
        {
          hint: 'install into a prefix with a shorter path, or rebuild the egg with a longer /PLACEHOLD marker',
          details: { file: ctx.eggName, entry: ctx.entry, placeholder: f.bytes.length, replacement: bytes.length },
        },
      );
    }
    const out = Buffer.alloc(f.bytes.length + 1);
    bytes.copy(out);
    patches.push({ offset: f.offset, bytes: out });
  }
  return patches;
}

/** What follows `/PLACEHOLD` repeated at least five times at the start of `text`, or null. */
function afterMarker(text: string): string | null {
  let i = 0;
  let n = 0;
  while (text.startsWith(MARKER, i)) {
    i += MARKER.length;
    n++;
  }
  return n >= MIN_REPEATS ? text.slice(i) : null;
}

/**
 * A search path: the bare marker becomes every target directory, `marker/sub` becomes
 * `<prefix>/sub`; whatever the binary had after the first `:` is kept as it was.
 */
function rpathFor(rest: string, ctx: RelocationContext): string {
  const colon = rest.indexOf(':');
  const head = colon < 0 ? rest : rest.slice(0, colon);
  const tail = colon < 0 ? '' : rest.slice(colon);
  const dirs =
    head === '' ? ctx.targets.map((t) => `${ctx.prefix}/${t}`).join(':') : `${ctx.prefix}${head.startsWith('/') ? '' : '/'}${head}`;
  return dirs + tail;
}

/** A library name: the first target directory that holds the library. */
function libraryFor(rest: string, ctx: RelocationContext): string {
  const lib = rest.replace(/^\/+/, '');
  // A name that climbs out of its directory (`../`) is never looked for.
  const dir = lib === '' || unsafeNameReason(lib) ? undefined : ctx.targets.find((t) => ctx.holds(`${t}/${lib}`));
  if (dir === undefined) {
    throw new PkgError(
      ErrorCodes.RELOCATION_LIBRARY_NOT_FOUND,
      `${ctx.eggName}: entry ${ctx.entry} loads the library ${lib || '(no name)'} through a placeholder, ` +
        `but none of ${ctx.targets.join(', ')} holds it`,
      {
        hint: 'install the package that provides the library first, or together with this one',
        details: { file: ctx.eggName, entry: ctx.entry, library: lib },
      },
    );
  }
  return `${ctx.prefix}/${dir}/${lib}`;
}

function lie(ctx: RelocationContext, format: string, why: string): PkgError {
  return new PkgError(
    ErrorCodes.ARCHIVE_OBJECT_INVALID,
    `${ctx.eggName}: entry ${ctx.entry} is ${format} object code whose headers lie: ${why}`,
    {
      hint: 'the archive is broken or hostile; nothing was installed',
      details: { file: ctx.eggName, entry: ctx.entry },
    },
  );
}

/** A bounds-checked view of the reader, whose errors say which header lied. */
class Fields {
  constructor(
    private readonly r: ObjectReader,
    private readonly le: boolean,
    private readonly fail: (why: string) => PkgError,
  ) {}

  bytes(offset: number, length: number, what: string): Buffer {
    if (!Number.isSafeInteger(offset) || offset < 0 || length < 0 || offset + length > this.r.size)
      throw this.fail(`${what} (${length} bytes at ${offset}) is outside the file of ${this.r.size} bytes`);
    return this.r.read(offset, length);
  }

  u16(b: Buffer, at: number): number {
    return this.le ? b.readUInt16LE(at) : b.readUInt16BE(at);
  }

  u32(b: Buffer, at: number): number {
    return this.le ? b.readUInt32LE(at) : b.readUInt32BE(at);
  }

  /** A 64-bit field as a number; beyond 2^53 it can only be a lie. */
  u64(b: Buffer, at: number, what: string): number {
    const v = this.le ? b.readBigUInt64LE(at) : b.readBigUInt64BE(at);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`${what} is ${v}`);
    return Number(v);
  }

  /** The NUL-terminated string at `offset`, which must end before `limit`. */
  cstring(offset: number, limit: number, what: string): Buffer {
    const b = this.bytes(offset, limit - offset, what);
    const nul = b.indexOf(0);
    if (nul < 0) throw this.fail(`${what} at ${offset} has no terminating NUL`);
    return b.subarray(0, nul);
  }
}

const PT_LOAD = 1;
const PT_DYNAMIC = 2;
const DT_NULL = 0;
const DT_STRTAB = 5;
const DT_STRSZ = 10;
const DT_RPATH = 15;
const DT_RUNPATH = 29;

/** DT_RPATH and DT_RUNPATH strings, found as the loader finds them: program headers, dynamic array, string table. */
function elfStrings(r: ObjectReader, ctx: RelocationContext): Found[] {
  const fail = (why: string) => lie(ctx, 'ELF', why);
  if (r.size < 16) throw fail('the file is shorter than its identification');
  const ident = r.read(0, 16);
  const wide = ident[4] === 2;
  if (ident[4] !== 1 && ident[4] !== 2) throw fail(`unknown class ${ident[4]}`);
  if (ident[5] !== 1 && ident[5] !== 2) throw fail(`unknown byte order ${ident[5]}`);
  const f = new Fields(r, ident[5] === 1, fail);
  const eh = f.bytes(0, wide ? 64 : 52, 'the ELF header');
  const phoff = wide ? f.u64(eh, 32, 'e_phoff') : f.u32(eh, 28);
  const phentsize = f.u16(eh, wide ? 54 : 42);
  const phnum = f.u16(eh, wide ? 56 : 44);
  if (phnum === 0) return [];
  if (phnum === 0xffff) throw fail('extended program header numbering is not supported');
  if (phentsize < (wide ? 56 : 32)) throw fail(`program header entries of ${phentsize} bytes`);
  const ph = f.bytes(phoff, phentsize * phnum, 'the program header table');
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dynamic: { offset: number; filesz: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const at = i * phentsize;
    const type = f.u32(ph, at);
    if (type !== PT_LOAD && type !== PT_DYNAMIC) continue;
    const seg = wide
      ? { offset: f.u64(ph, at + 8, 'p_offset'), vaddr: f.u64(ph, at + 16, 'p_vaddr'), filesz: f.u64(ph, at + 32, 'p_filesz') }
      : { offset: f.u32(ph, at + 4), vaddr: f.u32(ph, at + 8), filesz: f.u32(ph, at + 16) };
    if (seg.offset + seg.filesz > r.size) throw fail(`segment ${i} (${seg.filesz} bytes at ${seg.offset}) is outside the file`);
    if (type === PT_LOAD) loads.push(seg);
    else dynamic ??= seg;
  }
  if (!dynamic) return [];
  const entSize = wide ? 16 : 8;
  const dyn = f.bytes(dynamic.offset, dynamic.filesz - (dynamic.filesz % entSize), 'the dynamic section');
  let strtab: number | undefined;
  let strsz: number | undefined;
  const paths: number[] = [];
  for (let at = 0; at + entSize <= dyn.length; at += entSize) {
    const tag = wide ? f.u64(dyn, at, 'd_tag') : f.u32(dyn, at);
    if (tag === DT_NULL) break;
    if (tag !== DT_STRTAB && tag !== DT_STRSZ && tag !== DT_RPATH && tag !== DT_RUNPATH) continue;
    const val = wide ? f.u64(dyn, at + 8, 'd_val') : f.u32(dyn, at + 4);
    if (tag === DT_STRTAB) strtab = val;
    else if (tag === DT_STRSZ) strsz = val;
    else paths.push(val);
  }
  if (paths.length === 0) return [];
  if (strtab === undefined || strsz === undefined) throw fail('it has a search path but no string table');
  const vaddr = strtab;
  const load = loads.find((l) => l.vaddr <= vaddr && vaddr < l.vaddr + l.filesz);
  if (!load) throw fail(`its string table address ${vaddr} is in no loaded segment`);
  const tableStart = load.offset + (vaddr - load.vaddr);
  if (tableStart + strsz > r.size) throw fail(`its string table (${strsz} bytes at ${tableStart}) is outside the file`);
  return paths.map((p) => {
    if (p >= strsz) throw fail(`a search path at ${p} is outside the string table of ${strsz} bytes`);
    return { kind: 'rpath', offset: tableStart + p, bytes: f.cstring(tableStart + p, tableStart + strsz, 'a search path') };
  });
}

const LC_RPATH = 0x8000001c;
/** LC_ID_DYLIB, LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LAZY_LOAD_DYLIB, LC_LOAD_UPWARD_DYLIB. */
const LC_DYLIBS = new Set([0xd, 0xc, 0x80000018, 0x8000001f, 0x20, 0x80000023]);

/** LC_RPATH paths and dylib names of the thin Mach-O file at [start, end). */
function machoStrings(r: ObjectReader, start: number, end: number, ctx: RelocationContext): Found[] {
  const fail = (why: string) => lie(ctx, 'Mach-O', start ? `${why} (in the slice at ${start})` : why);
  if (end - start < 28) throw fail('the file is shorter than its header');
  const magic = r.read(start, 4).readUInt32BE(0);
  const le = magic === 0xcefaedfe || magic === 0xcffaedfe;
  const wide = magic === 0xfeedfacf || magic === 0xcffaedfe;
  if (!le && !wide && magic !== 0xfeedface) throw fail(`the slice does not start with a Mach-O magic number`);
  const view = new Fields({ size: end, read: r.read }, le, fail);
  const hsize = wide ? 32 : 28;
  const h = view.bytes(start, hsize, 'the Mach-O header');
  const ncmds = view.u32(h, 16);
  const sizeofcmds = view.u32(h, 20);
  const cmdsEnd = start + hsize + sizeofcmds;
  if (cmdsEnd > end) throw fail(`its load commands (${sizeofcmds} bytes) run past the end of the file`);
  const found: Found[] = [];
  let at = start + hsize;
  for (let i = 0; i < ncmds; i++) {
    if (at + 8 > cmdsEnd) throw fail(`load command ${i} starts past the end of the load commands`);
    const head = view.bytes(at, 8, `load command ${i}`);
    const cmd = view.u32(head, 0);
    const cmdsize = view.u32(head, 4);
    if (cmdsize < 8 || at + cmdsize > cmdsEnd) throw fail(`load command ${i} claims ${cmdsize} bytes`);
    if (cmd === LC_RPATH || LC_DYLIBS.has(cmd)) {
      const fixed = cmd === LC_RPATH ? 12 : 24;
      if (cmdsize < fixed) throw fail(`load command ${i} (0x${cmd.toString(16)}) is ${cmdsize} bytes, shorter than its fields`);
      const off = view.u32(view.bytes(at + 8, 4, `load command ${i}`), 0);
      if (off < fixed || off >= cmdsize) throw fail(`the string of load command ${i} starts at ${off}, outside its ${cmdsize} bytes`);
      const bytes = view.cstring(at + off, at + cmdsize, `the string of load command ${i}`);
      found.push({ kind: cmd === LC_RPATH ? 'rpath' : 'library', offset: at + off, bytes });
    }
    at += cmdsize;
  }
  return found;
}

/** Java class files share the universal magic; a universal file never has this many slices. */
const MAX_FAT_ARCHS = 30;

function fatStrings(r: ObjectReader, ctx: RelocationContext): Found[] {
  const fail = (why: string) => lie(ctx, 'universal Mach-O', why);
  const f = new Fields(r, false, fail);
  const h = f.bytes(0, 8, 'the universal header');
  const wide = h.readUInt32BE(0) === 0xcafebabf;
  const n = h.readUInt32BE(4);
  if (n === 0 || n > MAX_FAT_ARCHS) return [];
  const entry = wide ? 32 : 20;
  const table = f.bytes(8, n * entry, 'the universal architecture table');
  const found: Found[] = [];
  for (let i = 0; i < n; i++) {
    const at = i * entry;
    const offset = wide ? f.u64(table, at + 8, 'a slice offset') : table.readUInt32BE(at + 8);
    const size = wide ? f.u64(table, at + 16, 'a slice size') : table.readUInt32BE(at + 12);
    if (offset < 8 + n * entry || offset + size > r.size) throw fail(`slice ${i} (${size} bytes at ${offset}) is outside the file`);
    found.push(...machoStrings(r, offset, offset + size, ctx));
  }
  return found;
}

/** A reader over bytes in memory. */
export function bufferReader(data: Buffer): ObjectReader {
  return { size: data.length, read: (offset, length) => data.subarray(offset, offset + length) };
}
