/**
 * The index document and its compression: every entry validated, errors naming the entry; zstd
 * truncation, garbage and bombs refused without unbounded allocation.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CompressStream } from 'zstd-napi';
import { compressIndex, decodeIndex, decompressIndex, entryToJson, parseIndexText, PkgError, type IndexEntry } from 'enpkg';
import { DEFAULT_PACKAGES, entry, indexJson, LEGACY_INDEX } from './repo-helpers.js';

const opts = { format: 'zst' as const, source: 'the index of test', repository: 'test' };

function refused(text: string, code: string, pattern?: RegExp): void {
  assert.throws(
    () => parseIndexText(text, opts),
    (e: unknown) => {
      assert.ok(e instanceof PkgError, String(e));
      assert.equal(e.code, code, e.message);
      if (pattern) assert.match(e.message, pattern);
      assert.ok(e.hint, 'every refusal carries a hint');
      return true;
    },
  );
}

test('a valid index parses into entries the resolver can use directly', () => {
  const index = parseIndexText(indexJson({ serial: 7, expires: '2030-01-01T00:00:00Z' }), opts);
  assert.equal(index.serial, 7);
  assert.equal(index.repository, 'test');
  assert.equal(index.expires, '2030-01-01T00:00:00Z');
  const app = index.entries.find((e) => e.key === 'app')!;
  assert.deepEqual(
    {
      name: app.name,
      key: app.key,
      version: app.version,
      build: app.build,
      depends: app.depends,
      repository: app.repository,
      eggName: app.eggName,
    },
    {
      name: 'app',
      key: 'app',
      version: '1.0.0',
      build: 1,
      depends: ['libfoo >= 1.0', 'libbar'],
      repository: 'test',
      eggName: 'app-1.0.0-1.egg',
    },
  );
  // entryToJson is the inverse of parsing an entry.
  assert.deepEqual(entryToJson(app), DEFAULT_PACKAGES()['app-1.0.0-1.egg']);
});

test('names keep their spelling; the key is lower case; index names compare case-insensitively', () => {
  const index = parseIndexText(indexJson({ packages: { 'MKL-10.3-1.egg': entry('MKL-10.3-1.egg', { name: 'mkl' }) } }), opts);
  assert.deepEqual([index.entries[0]!.name, index.entries[0]!.key], ['MKL', 'mkl']);
});

const hostileEntries: Array<[string, string, Record<string, unknown>, RegExp]> = [
  ['traversal in the file name', '../x.egg', entry('x-1.0-1.egg'), /entry "\.\.\/x\.egg": not an egg file name/],
  ['a name starting with "-"', '-rf-1.0-1.egg', entry('-rf-1.0-1.egg'), /entry "-rf-1\.0-1\.egg": not an egg file name/],
  ['a slash in the file name', 'a/b-1.0-1.egg', entry('b-1.0-1.egg'), /not an egg file name/],
  ['a control character', 'a\nb-1.0-1.egg', entry('ab-1.0-1.egg'), /entry "a\\nb-1\.0-1\.egg"/],
  [
    'a name disagreeing with the file name',
    'foo-1.0-1.egg',
    entry('foo-1.0-1.egg', { name: 'bar' }),
    /"name" is "bar" but the file name says "foo"/,
  ],
  [
    'a version disagreeing',
    'foo-1.0-1.egg',
    entry('foo-1.0-1.egg', { version: '2.0' }),
    /"version" is string "2\.0" but the file name says "1\.0"/,
  ],
  ['a build of the wrong type', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { build: '1' }), /"build" is string "1"/],
  ['a negative size', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { size: -1 }), /"size" must be a whole number/],
  ['a size that is a string', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { size: '1000' }), /"size"/],
  ['a short sha256', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { sha256: 'abc' }), /"sha256" must be 64 lower-case hex/],
  ['a missing sha256', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { sha256: undefined }), /"sha256"/],
  ['an md5 that is a number', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { md5: 5 }), /"md5"/],
  ['packages that is a string', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { packages: 'bar' }), /"packages" must be a list/],
  [
    'a requirement that is a number',
    'foo-1.0-1.egg',
    entry('foo-1.0-1.egg', { packages: [3] }),
    /"packages"\[0\] must be a requirement string/,
  ],
  [
    'an invalid requirement string',
    'foo-1.0-1.egg',
    entry('foo-1.0-1.egg', { packages: ['bar >>= 1.0'] }),
    /invalid requirement "bar >>= 1\.0"/,
  ],
  ['a requirement with a traversal name', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { packages: ['../bar'] }), /invalid requirement/],
  ['a python tag with spaces', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { python: '2.7; rm -rf' }), /"python" must be null or a short word/],
  ['a summary that is an object', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { summary: { a: 1 } }), /"summary" must be a string/],
  ['an entry that is a list', 'foo-1.0-1.egg', [] as unknown as Record<string, unknown>, /expected an object, found a list/],
  ['an mtime that is NaN-like', 'foo-1.0-1.egg', entry('foo-1.0-1.egg', { mtime: 'yesterday' }), /"mtime"/],
];

for (const [what, fileName, value, pattern] of hostileEntries) {
  test(`an entry with ${what} refuses the index, naming the entry`, () => {
    const packages = { ...DEFAULT_PACKAGES(), [fileName]: value };
    refused(indexJson({ packages }), 'INDEX_ENTRY_INVALID', pattern);
  });
}

test('two entries whose file names differ only in case refuse the index', () => {
  const packages = { 'Foo-1.0-1.egg': entry('Foo-1.0-1.egg'), 'foo-1.0-1.egg': entry('foo-1.0-1.egg') };
  refused(indexJson({ packages }), 'INDEX_ENTRY_INVALID', /a second entry for the same package/);
});

test('top-level errors: not JSON, wrong types, unknown schema, bad dates', () => {
  refused('{"schema": 1, "serial": 1, "packages": {', 'INDEX_INVALID', /not valid JSON/);
  refused('[]', 'INDEX_INVALID', /expected a JSON object/);
  refused(indexJson({ top: { serial: '5' } }), 'INDEX_INVALID', /"serial" must be a whole number/);
  refused(indexJson({ top: { serial: -1 } }), 'INDEX_INVALID', /"serial"/);
  refused(indexJson({ top: { packages: [] } }), 'INDEX_INVALID', /"packages" must be an object/);
  refused(indexJson({ top: { schema: 2 } }), 'INDEX_SCHEMA_UNSUPPORTED', /schema 2/);
  refused(indexJson({ top: { schema: '1' } }), 'INDEX_INVALID', /"schema" must be a number/);
  refused(indexJson({ top: { expires: 'next tuesday' } }), 'INDEX_INVALID', /"expires" must be a date/);
  refused(indexJson({ top: { repository: { x: 1 } } }), 'INDEX_INVALID', /"repository"/);
});

test('"__proto__" and other odd keys are entries like any other, not prototype changes', () => {
  refused(`{"schema":1,"serial":1,"packages":{"__proto__":{"name":"x"}}}`, 'INDEX_ENTRY_INVALID', /entry "__proto__"/);
});

test("Enstaller's legacy index.json: the mapping at the top level, md5 required, sha256 optional", () => {
  const legacy = LEGACY_INDEX;

  const index = parseIndexText(legacy, { ...opts, format: 'legacy' });
  assert.equal(index.format, 'legacy');
  assert.equal(index.entries[0]!.sha256, null);
  assert.equal(index.entries[0]!.md5, '7fbd5a7c83ebbb14c42141ed734505ef');
  const noMd5 = JSON.stringify({ 'nose-1.3.4-1.egg': { build: 1, mtime: 1, name: 'nose', size: 1, version: '1.3.4' } });
  assert.throws(() => parseIndexText(noMd5, { ...opts, format: 'legacy' }), /"md5" must be 32 lower-case hex/);
});

test('compress / decompress round trip through decodeIndex', () => {
  const bytes = compressIndex(Buffer.from(indexJson()));
  const index = decodeIndex(bytes, { ...opts, maxSize: 1 << 20 });
  assert.equal(index.entries.length, 3);
  const e: IndexEntry = index.entries[0]!;
  assert.equal(typeof e.size, 'number');
});

function corrupt(bytes: Buffer, code: string, pattern: RegExp, maxSize = 1 << 20): void {
  assert.throws(
    () => decompressIndex(bytes, { maxSize, source: 'the index of test' }),
    (e: unknown) => e instanceof PkgError && e.code === code && pattern.test(e.message),
  );
}

test('a truncated zstd stream, garbage and an empty file are refused as corrupt', () => {
  const bytes = compressIndex(Buffer.from(indexJson()));
  corrupt(bytes.subarray(0, bytes.length - 7), 'INDEX_CORRUPT', /not a valid zstd stream/);
  corrupt(bytes.subarray(0, 10), 'INDEX_CORRUPT', /not a valid zstd stream/);
  corrupt(Buffer.from('{"this is": "plain json"}'), 'INDEX_CORRUPT', /not a valid zstd stream/);
  corrupt(Buffer.alloc(0), 'INDEX_CORRUPT', /empty/);
});

test('a zstd bomb whose frame declares its size is refused before anything is allocated', () => {
  const bomb = compressIndex(Buffer.alloc(8 << 20), 19);
  assert.ok(bomb.length < 4096, `${bomb.length} bytes`);
  corrupt(bomb, 'INDEX_TOO_LARGE', /decompresses to 8388608 bytes, more than the 1048576 allowed/);
});

async function streamCompress(chunks: number, chunkSize: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const s = new CompressStream({ compressionLevel: 3 });
  s.on('data', (b: Buffer) => out.push(b));
  const done = new Promise((resolve) => s.on('end', resolve));
  const zeros = Buffer.alloc(chunkSize);
  for (let i = 0; i < chunks; i++) s.write(zeros);
  s.end();
  await done;
  return Buffer.concat(out);
}

test('a zstd bomb of unknown size is stopped as soon as it passes the cap', async () => {
  // 64 MiB of zeros streamed (no content size in the frame header), capped at 1 MiB.
  const bomb = await streamCompress(64, 1 << 20);
  assert.ok(bomb.length < 64 * 1024, `${bomb.length} bytes`);
  corrupt(bomb, 'INDEX_TOO_LARGE', /more than 1048576/);
  // The same stream under a large enough cap decompresses fully.
  assert.equal(decompressIndex(bomb, { maxSize: 65 << 20, source: 'x' }).length, 64 << 20);
});

test('the fast path for requirement strings accepts only what parseRequirement accepts', async () => {
  const { SIMPLE_REQUIREMENT } = await import('../src/repodata/parse.js');
  const { parseRequirement } = await import('enpkg');
  const samples = [
    'numpy',
    'numpy 1.8.0',
    'numpy 1.8.0-1',
    'MKL 10.3-1',
    'numpy >= 1.8, < 2.0',
    'a.b_c ^= 2011g',
    'x != 1.0-0',
    'x == 1+local',
    'numpy 1.8.0-01',
    'numpy >=1.8',
    'numpy  1.8',
    ' numpy',
    'numpy ',
    'numpy >= 1.8,< 2',
    'numpy => 1.8',
    'numpy ~= 1.8',
    'numpy 1-2-3',
    'numpy *',
    '../x',
    '-x',
    'numpy >= ',
    'numpy, x',
    'numpy 1.0 extra',
    'numpy - 1.0',
    'numpy >= 1.0-a',
  ];
  // And random strings over the alphabet that matters.
  let seed = 7;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const names = ['a', 'b.c', '_x', 'MKL', 'a-b', ''];
  const versions = ['1', '1.0', '2011g', '1.0-1', '1.0-01', '+1', '1..2', 'a', '1.0-', '-1', '1.0-1-2', '1,0'];
  const ops = ['==', '!=', '<=', '>=', '^=', '<', '>', '=>', '~=', '=', '*', ''];
  const seps = [' ', '', '  ', '\t'];
  for (let i = 0; i < 20_000; i++) {
    let s = pick(names);
    const n = Math.floor(rand() * 3);
    for (let k = 0; k < n; k++) s += (k > 0 ? pick([', ', ',', ' , ', ' ']) : pick(seps)) + pick(ops) + pick(seps) + pick(versions);
    samples.push(s);
  }
  let fast = 0;
  for (const s of samples) {
    if (!SIMPLE_REQUIREMENT.test(s)) continue;
    fast++;
    assert.doesNotThrow(() => parseRequirement(s), `fast path accepted ${JSON.stringify(s)}`);
  }
  assert.ok(fast > 100, `${fast} samples took the fast path`);
});
