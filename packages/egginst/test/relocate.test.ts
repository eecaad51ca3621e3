/**
 * Object-code relocation on files written here byte by byte: Mach-O (32 and 64 bit, both byte
 * orders, universal) and ELF (32-bit big-endian, 64-bit little-endian). Every patched file must
 * equal the original with only the placeholder strings replaced and NUL-padded.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PkgError } from '../src/errors.js';
import { bufferReader, objectFormat, relocationPatches, type RelocationContext } from '../src/relocate.js';

const P20 = '/PLACEHOLD'.repeat(20);
const ctx: RelocationContext = {
  prefix: '/opt/p',
  targets: ['lib/foo', 'lib'],
  holds: (rel) => rel === 'lib/libbar.dylib' || rel === 'lib/foo/libbaz.dylib',
  eggName: 'x-1.0-1.egg',
  entry: 'EGG-INFO/usr/lib/x',
};

const LC_RPATH = 0x8000001c;
const LC_LOAD_DYLIB = 0xc;
const LC_SEGMENT = 0x1;

interface Built {
  data: Buffer;
  /** Offsets of the strings, in command order. */
  strings: number[];
}

function u32(v: number, le: boolean): Buffer {
  const b = Buffer.alloc(4);
  if (le) b.writeUInt32LE(v);
  else b.writeUInt32BE(v);
  return b;
}

/** A thin Mach-O file: header, then the load commands given (strings padded to 8 bytes). */
function macho(wide: boolean, le: boolean, cmds: { cmd: number; str?: string }[]): Built {
  const body: Buffer[] = [];
  const strings: number[] = [];
  let at = wide ? 32 : 28;
  for (const c of cmds) {
    if (c.str === undefined) {
      // An unrelated command (a segment stub of 56 bytes).
      body.push(u32(c.cmd, le), u32(56, le), Buffer.alloc(48, 0x11));
      at += 56;
      continue;
    }
    const fixed = c.cmd === LC_RPATH ? 12 : 24;
    const str = Buffer.from(`${c.str}\0`, 'latin1');
    const size = Math.ceil((fixed + str.length) / 8) * 8;
    const fields = c.cmd === LC_RPATH ? [] : [u32(2, le), u32(0x10000, le), u32(0x10000, le)];
    body.push(u32(c.cmd, le), u32(size, le), u32(fixed, le), ...fields, str, Buffer.alloc(size - fixed - str.length));
    strings.push(at + fixed);
    at += size;
  }
  const sizeofcmds = body.reduce((n, b) => n + b.length, 0);
  const magic = wide ? 0xfeedfacf : 0xfeedface;
  const header = [u32(magic, le), u32(7, le), u32(3, le), u32(6, le), u32(cmds.length, le), u32(sizeofcmds, le), u32(0, le)];
  if (wide) header.push(u32(0, le));
  return { data: Buffer.concat([...header, ...body, Buffer.from('__TEXT...')]), strings };
}

/** Apply the patches and return the result (the input is left alone). */
function relocated(data: Buffer, c: RelocationContext = ctx): Buffer {
  const out = Buffer.from(data);
  for (const p of relocationPatches(bufferReader(data), c)) p.bytes.copy(out, p.offset);
  return out;
}

/** The original with `replacement` written over the string at `offset`, NUL-padded to its length. */
function expect(data: Buffer, offset: number, replacement: string): Buffer {
  const out = Buffer.from(data);
  const end = out.indexOf(0, offset);
  out.fill(0, offset, end);
  out.write(replacement, offset, 'latin1');
  return out;
}

function failsWith(code: string, data: Buffer, pattern: RegExp, c: RelocationContext = ctx): void {
  assert.throws(
    () => relocationPatches(bufferReader(data), c),
    (e: unknown) => e instanceof PkgError && e.code === code && pattern.test(e.message),
  );
}

const variants = [
  { wide: false, le: true, label: '32-bit little-endian' },
  { wide: false, le: false, label: '32-bit big-endian' },
  { wide: true, le: true, label: '64-bit little-endian' },
  { wide: true, le: false, label: '64-bit big-endian' },
];

for (const v of variants) {
  test(`Mach-O ${v.label}: LC_RPATH and LC_LOAD_DYLIB placeholders rewritten exactly, nothing else touched`, () => {
    const m = macho(v.wide, v.le, [
      { cmd: LC_SEGMENT },
      { cmd: LC_RPATH, str: P20 },
      { cmd: LC_RPATH, str: `${P20}:@loader_path/../lib` },
      { cmd: LC_LOAD_DYLIB, str: `${P20}/libbar.dylib` },
      { cmd: LC_LOAD_DYLIB, str: `${P20}/libbaz.dylib` },
      { cmd: LC_LOAD_DYLIB, str: '/usr/lib/libSystem.B.dylib' },
      { cmd: LC_RPATH, str: '/PLACEHOLD'.repeat(4) },
    ]);
    assert.equal(objectFormat(m.data), 'macho');
    let want = expect(m.data, m.strings[0]!, '/opt/p/lib/foo:/opt/p/lib');
    want = expect(want, m.strings[1]!, '/opt/p/lib/foo:/opt/p/lib:@loader_path/../lib');
    want = expect(want, m.strings[2]!, '/opt/p/lib/libbar.dylib');
    want = expect(want, m.strings[3]!, '/opt/p/lib/foo/libbaz.dylib');
    assert.deepEqual(relocated(m.data), want);
    assert.equal(relocated(m.data).length, m.data.length);
  });
}

test('universal Mach-O: every slice rewritten (32-bit big-endian and 64-bit little-endian slices)', () => {
  const a = macho(false, false, [{ cmd: LC_RPATH, str: P20 }]);
  const b = macho(true, true, [{ cmd: LC_LOAD_DYLIB, str: `${P20}/libbar.dylib` }]);
  const offA = 64;
  const offB = offA + Math.ceil(a.data.length / 16) * 16;
  const header = Buffer.alloc(offA);
  header.writeUInt32BE(0xcafebabe, 0);
  header.writeUInt32BE(2, 4);
  for (const [i, [off, slice]] of [
    [offA, a],
    [offB, b],
  ].entries() as IterableIterator<[number, [number, Built]]>) {
    header.writeUInt32BE(7, 8 + i * 20);
    header.writeUInt32BE(3, 12 + i * 20);
    header.writeUInt32BE(off, 16 + i * 20);
    header.writeUInt32BE(slice.data.length, 20 + i * 20);
    header.writeUInt32BE(4, 24 + i * 20);
  }
  const fat = Buffer.alloc(offB + b.data.length);
  header.copy(fat);
  a.data.copy(fat, offA);
  b.data.copy(fat, offB);
  assert.equal(objectFormat(fat), 'fat');
  let want = expect(fat, offA + a.strings[0]!, '/opt/p/lib/foo:/opt/p/lib');
  want = expect(want, offB + b.strings[0]!, '/opt/p/lib/libbar.dylib');
  assert.deepEqual(relocated(fat), want);

  // A slice that runs past the end of the file is a lie.
  const lying = Buffer.from(fat);
  lying.writeUInt32BE(fat.length, 20 + 20);
  failsWith('ARCHIVE_OBJECT_INVALID', lying, /universal Mach-O.*slice 1/);
  // A Java class file has the same magic and is left alone.
  const klass = Buffer.from('cafebabe0000003400', 'hex');
  assert.deepEqual(relocationPatches(bufferReader(klass), ctx), []);
});

test('Mach-O whose headers lie is refused', () => {
  const m = macho(true, true, [{ cmd: LC_RPATH, str: P20 }]);
  const at = 32;
  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ['more commands than there are', (b) => b.writeUInt32LE(2, 16), /load command 1 starts past/],
    ['load commands past the end', (b) => b.writeUInt32LE(1 << 20, 20), /run past the end of the file/],
    ['a command smaller than its header', (b) => b.writeUInt32LE(4, at + 4), /claims 4 bytes/],
    ['a string outside its command', (b) => b.writeUInt32LE(4096, at + 8), /starts at 4096/],
    ['a string without NUL', (b) => b.fill(0x41, at + 12, at + b.readUInt32LE(at + 4)), /no terminating NUL/],
  ];
  for (const [label, spoil, pattern] of cases) {
    const b = Buffer.from(m.data);
    spoil(b);
    assert.throws(
      () => relocationPatches(bufferReader(b), ctx),
      (e: unknown) => e instanceof PkgError && e.code === 'ARCHIVE_OBJECT_INVALID' && pattern.test(e.message),
      label,
    );
  }
});

test('a library placeholder no target directory holds is an error naming the library', () => {
  const m = macho(false, true, [{ cmd: LC_LOAD_DYLIB, str: `${P20}/libmissing.1.dylib` }]);
  failsWith('RELOCATION_LIBRARY_NOT_FOUND', m.data, /libmissing\.1\.dylib.*lib\/foo, lib/);
  const climbing = macho(false, true, [{ cmd: LC_LOAD_DYLIB, str: `${P20}/../lib/libbar.dylib` }]);
  failsWith('RELOCATION_LIBRARY_NOT_FOUND', climbing.data, /\.\.\/lib\/libbar\.dylib/, { ...ctx, holds: () => true });
});

test('a replacement longer than its placeholder is an error naming the file and both lengths', () => {
  const m = macho(true, false, [{ cmd: LC_RPATH, str: '/PLACEHOLD'.repeat(5) }]);
  const long = { ...ctx, prefix: `/opt/${'p'.repeat(40)}` };
  failsWith('RELOCATION_TOO_LONG', m.data, /EGG-INFO\/usr\/lib\/x has a placeholder of 50 bytes.* is 103 bytes long/, long);
  // Exactly as long as the marker fits (the NUL stays).
  const exact = { ...ctx, targets: ['lib'], prefix: `/${'q'.repeat(45)}` };
  assert.deepEqual(relocated(m.data, exact), expect(m.data, m.strings[0]!, `${exact.prefix}/lib`));
});

/** A minimal ELF: header, PT_LOAD (the whole file at 0x400000), PT_DYNAMIC, the dynamic array, the string table. */
function elf(wide: boolean, le: boolean, dyn: [number, number | 'strtab' | 'strsz'][], strtab: string): { data: Buffer; strtab: number } {
  const ehsize = wide ? 64 : 52;
  const phentsize = wide ? 56 : 32;
  const phoff = ehsize;
  const dynoff = phoff + 2 * phentsize;
  const entsize = wide ? 16 : 8;
  const stroff = dynoff + dyn.length * entsize;
  const size = stroff + strtab.length;
  const base = 0x400000;
  const b = Buffer.alloc(size);
  const w = (v: number, at: number, bytes: 2 | 4 | 8): void => {
    if (bytes === 2) le ? b.writeUInt16LE(v, at) : b.writeUInt16BE(v, at);
    else if (bytes === 4) le ? b.writeUInt32LE(v, at) : b.writeUInt32BE(v, at);
    else le ? b.writeBigUInt64LE(BigInt(v), at) : b.writeBigUInt64BE(BigInt(v), at);
  };
  b.write('\x7fELF', 0, 'latin1');
  b[4] = wide ? 2 : 1;
  b[5] = le ? 1 : 2;
  b[6] = 1;
  w(3, 16, 2); // ET_DYN
  if (wide) {
    w(phoff, 32, 8);
    w(phentsize, 54, 2);
    w(2, 56, 2);
  } else {
    w(phoff, 28, 4);
    w(phentsize, 42, 2);
    w(2, 44, 2);
  }
  const ph = (i: number, type: number, offset: number, filesz: number): void => {
    const at = phoff + i * phentsize;
    w(type, at, 4);
    if (wide) {
      w(offset, at + 8, 8);
      w(base + offset, at + 16, 8);
      w(filesz, at + 32, 8);
    } else {
      w(offset, at + 4, 4);
      w(base + offset, at + 8, 4);
      w(filesz, at + 16, 4);
    }
  };
  ph(0, 1, 0, size);
  ph(1, 2, dynoff, dyn.length * entsize);
  dyn.forEach(([tag, val], i) => {
    const v = val === 'strtab' ? base + stroff : val === 'strsz' ? strtab.length : val;
    w(tag, dynoff + i * entsize, wide ? 8 : 4);
    w(v, dynoff + i * entsize + (wide ? 8 : 4), wide ? 8 : 4);
  });
  b.write(strtab, stroff, 'latin1');
  return { data: b, strtab: stroff };
}

for (const [wide, le, label] of [
  [true, true, '64-bit little-endian'],
  [false, false, '32-bit big-endian'],
] as const) {
  test(`ELF ${label}: DT_RPATH and DT_RUNPATH placeholders rewritten through the dynamic array`, () => {
    const strtab = `\0libc.so.6\0${P20}\0${P20}/lib/sub:$ORIGIN\0${P20}\0`;
    const s1 = strtab.indexOf(P20);
    const s2 = strtab.indexOf(P20, s1 + P20.length);
    const e = elf(
      wide,
      le,
      [
        [1, 1], // DT_NEEDED libc.so.6
        [5, 'strtab'],
        [10, 'strsz'],
        [15, s1], // DT_RPATH
        [29, s2], // DT_RUNPATH
        [0, 0],
        [15, strtab.lastIndexOf(P20)], // after DT_NULL: not looked at
      ],
      strtab,
    );
    assert.equal(objectFormat(e.data), 'elf');
    let want = expect(e.data, e.strtab + s1, '/opt/p/lib/foo:/opt/p/lib');
    want = expect(want, e.strtab + s2, '/opt/p/lib/sub:$ORIGIN');
    assert.deepEqual(relocated(e.data), want);
  });
}

test('ELF whose headers lie is refused; one without placeholders is left alone', () => {
  const strtab = `\0${P20}\0`;
  const good = () =>
    elf(
      true,
      true,
      [
        [5, 'strtab'],
        [10, 'strsz'],
        [15, 1],
        [0, 0],
      ],
      strtab,
    );
  const cases: [string, (b: Buffer) => void, RegExp][] = [
    ['program headers past the end', (b) => b.writeBigUInt64LE(1n << 40n, 32), /program header table/],
    ['a string table in no segment', (b) => b.writeBigUInt64LE(0x10n, 64 + 2 * 56 + 8), /in no loaded segment/],
    ['a search path outside the string table', (b) => b.writeBigUInt64LE(4096n, 64 + 2 * 56 + 40), /outside the string table/],
    ['a segment past the end', (b) => b.writeBigUInt64LE(1n << 20n, 64 + 32), /segment 0/],
    ['an unknown class', (b) => void (b[4] = 7), /unknown class 7/],
  ];
  for (const [label, spoil, pattern] of cases) {
    const b = good().data;
    spoil(b);
    assert.throws(
      () => relocationPatches(bufferReader(b), ctx),
      (e: unknown) => e instanceof PkgError && e.code === 'ARCHIVE_OBJECT_INVALID' && pattern.test(e.message),
      label,
    );
  }
  const plain = elf(
    false,
    true,
    [
      [5, 'strtab'],
      [10, 'strsz'],
      [15, 1],
      [0, 0],
    ],
    '\0/usr/local/lib\0',
  );
  assert.deepEqual(relocationPatches(bufferReader(plain.data), ctx), []);
  assert.equal(objectFormat(Buffer.from('#!/bin/sh\n')), null);
});
