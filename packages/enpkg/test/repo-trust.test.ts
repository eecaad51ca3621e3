/**
 * The load pipeline's trust rules, on local repositories: signatures, rollback, expiry, hostile
 * indexes (each refused with a clear error, the cached index unchanged and still usable offline),
 * Enstaller's legacy index.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressIndex, loadConfig, loadRepositories, PkgError, type EnpkgConfig, type Reporter } from 'enpkg';
import type { Warning } from 'egginst';
import {
  DEFAULT_PACKAGES,
  entry,
  indexJson,
  LEGACY_INDEX,
  makeKeys,
  snapshot,
  tmp,
  writeConfig,
  writeIndex,
  type Keys,
} from './repo-helpers.js';

interface Setup {
  repo: string;
  cache: string;
  keys: Keys;
  config: EnpkgConfig;
}

function setup(t: { after(fn: () => unknown): void }, opts: { signed?: boolean } = {}): Setup {
  const dir = tmp(t);
  const keys = makeKeys(dir);
  const repo = join(dir, 'repo');
  const cache = join(dir, 'cache');
  const file = writeConfig(dir, { repo, cacheDir: cache, keys: opts.signed === false ? [] : [keys.publicKey] });
  return { repo, cache, keys, config: loadConfig({ configFile: file, env: {} }) };
}

function collector(): Reporter & { warnings: Warning[] } {
  const warnings: Warning[] = [];
  return { warnings, report: (e) => void (e.type === 'warning' && warnings.push(e.warning)) };
}

async function refusedWith(config: EnpkgConfig, code: string, pattern?: RegExp, now?: Date): Promise<PkgError> {
  try {
    await loadRepositories(config, now ? { now: () => now } : {});
  } catch (e) {
    assert.ok(e instanceof PkgError, String(e));
    assert.equal(e.code, code, e.message);
    if (pattern) assert.match(e.message, pattern);
    assert.ok(e.hint);
    return e;
  }
  assert.fail(`expected ${code}`);
}

test('a signed index loads, is cached, and its serial is remembered', async (t) => {
  const s = setup(t);
  writeIndex(s.repo, { serial: 3 }, s.keys);
  const [loaded] = await loadRepositories(s.config);
  assert.equal(loaded!.signed, true);
  assert.equal(loaded!.origin, 'fetched');
  assert.equal(loaded!.index.serial, 3);
  assert.deepEqual(loaded!.index.entries.map((e) => e.eggName).sort(), Object.keys(DEFAULT_PACKAGES()).sort());
  const files = Object.keys(snapshot(s.cache)).map((f) => f.replace(/^index\/[^/]+\//, ''));
  assert.deepEqual(files.sort(), ['index.json.zst', 'index.json.zst.sig', 'meta.json', 'serial.json']);
  // Offline: the same index from the cache, checked again.
  const [offline] = await loadRepositories(s.config, { offline: true });
  assert.equal(offline!.origin, 'cache');
  assert.equal(offline!.index.entries.length, 3);
});

interface HostileCase {
  name: string;
  code: string;
  pattern: RegExp;
  /** Replace the repository's good index with the hostile one. */
  make(s: Setup, good: Buffer): void;
  now?: Date;
}

const hostile: HostileCase[] = [
  {
    name: 'a signature by another key',
    code: 'INDEX_SIGNATURE_INVALID',
    pattern: /does not verify with any trusted key/,
    make: (s) => writeIndex(s.repo, { serial: 6 }, makeKeys(join(s.repo, '..'), 'other')),
  },
  {
    name: 'a signature over other bytes (index altered after signing)',
    code: 'INDEX_SIGNATURE_INVALID',
    pattern: /does not verify/,
    make: (s) => {
      const sig = readFileSync(join(s.repo, 'index.json.zst.sig'));
      writeIndex(s.repo, { serial: 6, packages: { ...DEFAULT_PACKAGES(), 'evil-1.0-1.egg': entry('evil-1.0-1.egg') } });
      writeFileSync(join(s.repo, 'index.json.zst.sig'), sig);
    },
  },
  {
    name: 'a malformed signature',
    code: 'INDEX_SIGNATURE_INVALID',
    pattern: /malformed/,
    make: (s) => {
      writeIndex(s.repo, { serial: 6 });
      writeFileSync(join(s.repo, 'index.json.zst.sig'), 'not base64 at all\n');
    },
  },
  {
    name: 'a missing signature',
    code: 'INDEX_SIGNATURE_MISSING',
    pattern: /no signature/,
    make: (s) => writeIndex(s.repo, { serial: 6 }),
  },
  {
    name: 'a replayed older serial (validly signed)',
    code: 'INDEX_ROLLBACK',
    pattern: /serial 4 is lower than serial 5 already accepted/,
    make: (s) => writeIndex(s.repo, { serial: 4 }, s.keys),
  },
  {
    name: 'an expired index',
    code: 'INDEX_EXPIRED',
    pattern: /expired at 2026-01-02T00:00:00Z/,
    make: (s) => writeIndex(s.repo, { serial: 6, expires: '2026-01-02T00:00:00Z' }, s.keys),
    now: new Date('2026-02-01T00:00:00Z'),
  },
  {
    name: 'truncated zstd',
    code: 'INDEX_CORRUPT',
    pattern: /not a valid zstd stream/,
    make: (s) => {
      const full = compressIndex(Buffer.from(indexJson({ serial: 6 })));
      writeIndex(s.repo, full.subarray(0, full.length - 9), s.keys);
    },
  },
  {
    name: 'a zstd bomb',
    code: 'INDEX_TOO_LARGE',
    pattern: /more than the 1048576 allowed \(a zstd bomb/,
    make: (s) => writeIndex(s.repo, compressIndex(Buffer.alloc(4 << 20, 0x20), 19), s.keys),
  },
  {
    name: 'an entry named ../x.egg',
    code: 'INDEX_ENTRY_INVALID',
    pattern: /entry "\.\.\/x\.egg"/,
    make: (s) => writeIndex(s.repo, { serial: 6, packages: { ...DEFAULT_PACKAGES(), '../x.egg': entry('x-1.0-1.egg') } }, s.keys),
  },
  {
    name: 'a name starting with "-"',
    code: 'INDEX_ENTRY_INVALID',
    pattern: /entry "--force-1\.0-1\.egg"/,
    make: (s) =>
      writeIndex(s.repo, { serial: 6, packages: { ...DEFAULT_PACKAGES(), '--force-1.0-1.egg': entry('--force-1.0-1.egg') } }, s.keys),
  },
  {
    name: 'wrong types',
    code: 'INDEX_ENTRY_INVALID',
    pattern: /entry "libfoo-1\.0\.0-1\.egg": "size" must be a whole number of bytes, not string "big"/,
    make: (s) =>
      writeIndex(
        s.repo,
        { serial: 6, packages: { ...DEFAULT_PACKAGES(), 'libfoo-1.0.0-1.egg': entry('libfoo-1.0.0-1.egg', { size: 'big' }) } },
        s.keys,
      ),
  },
  {
    name: 'a serial of the wrong type',
    code: 'INDEX_INVALID',
    pattern: /"serial" must be a whole number/,
    make: (s) => writeIndex(s.repo, { top: { serial: '99' } }, s.keys),
  },
];

for (const h of hostile) {
  test(`hostile index: ${h.name} is refused (${h.code}); the cached index is unchanged and still used offline`, async (t) => {
    const s = setup(t);
    const cfg: EnpkgConfig = { ...s.config, network: { ...s.config.network, maxIndexSize: 1 << 20 } };
    const good = writeIndex(s.repo, { serial: 5 }, s.keys);
    await loadRepositories(cfg);
    const before = snapshot(s.cache);
    h.make(s, good);
    await refusedWith(cfg, h.code, h.pattern, h.now);
    assert.deepEqual(snapshot(s.cache), before, 'the cache is untouched');
    const [offline] = await loadRepositories(cfg, { offline: true });
    assert.equal(offline!.index.serial, 5);
  });
}

test('without configured keys a signature is not required (nor checked)', async (t) => {
  const s = setup(t, { signed: false });
  writeIndex(s.repo, { serial: 1 });
  const [loaded] = await loadRepositories(s.config);
  assert.equal(loaded!.signed, false);
});

test('the same serial again is accepted; a higher one replaces the cache', async (t) => {
  const s = setup(t);
  writeIndex(s.repo, { serial: 2 }, s.keys);
  await loadRepositories(s.config);
  await loadRepositories(s.config);
  writeIndex(s.repo, { serial: 3, packages: { 'solo-1.0-1.egg': entry('solo-1.0-1.egg') } }, s.keys);
  const [loaded] = await loadRepositories(s.config);
  assert.equal(loaded!.index.serial, 3);
  const [offline] = await loadRepositories(s.config, { offline: true });
  assert.deepEqual(
    offline!.index.entries.map((e) => e.key),
    ['solo'],
  );
});

test('--offline without a cached index is an error naming the repository', async (t) => {
  const s = setup(t);
  writeIndex(s.repo, { serial: 1 }, s.keys);
  await assert.rejects(
    loadRepositories(s.config, { offline: true }),
    (e: unknown) => e instanceof PkgError && e.code === 'REPO_OFFLINE_NO_CACHE' && /index of test/.test(e.message),
  );
});

test('a directory without an index is REPO_NOT_FOUND', async (t) => {
  const s = setup(t);
  await assert.rejects(
    loadRepositories(s.config),
    (e: unknown) => e instanceof PkgError && e.code === 'REPO_NOT_FOUND' && e.message.includes(s.repo),
  );
});

test("Enstaller's legacy index.json is read, with a warning that md5 is weak", async (t) => {
  const s = setup(t, { signed: false });
  writeIndex(s.repo, { serial: 1 });
  rmSync(join(s.repo, 'index.json.zst'));
  writeFileSync(join(s.repo, 'index.json'), LEGACY_INDEX);
  const reporter = collector();
  const [loaded] = await loadRepositories(s.config, { reporter });
  assert.equal(loaded!.index.format, 'legacy');
  assert.deepEqual(
    loaded!.index.entries.map((e) => e.eggName),
    ['nose-1.3.4-1.egg'],
  );
  assert.ok(reporter.warnings.some((w) => w.code === 'INDEX_LEGACY_MD5' && /md5 is weak/.test(w.message)));
});

test('a legacy index is refused when keys are configured, and after a signed index was accepted (downgrade)', async (t) => {
  const s = setup(t);
  writeIndex(s.repo, { serial: 1 }, s.keys);
  await loadRepositories(s.config);
  rmSync(join(s.repo, 'index.json.zst'));
  writeFileSync(join(s.repo, 'index.json'), LEGACY_INDEX);
  await refusedWith(s.config, 'INDEX_LEGACY_REFUSED', /has trusted keys configured/);
  const unsigned: EnpkgConfig = { ...s.config, repositories: s.config.repositories.map((r) => ({ ...r, keys: [] })) };
  await refusedWith(unsigned, 'INDEX_LEGACY_REFUSED', /serial 1 of index\.json\.zst was accepted .* before \(a downgrade\)/);
});

test('key rotation: the same index re-signed with a new key replaces the cached signature', async (t) => {
  const s = setup(t);
  const bytes = writeIndex(s.repo, { serial: 1 }, s.keys);
  await loadRepositories(s.config);
  const next = makeKeys(join(s.repo, '..'), 'next');
  writeIndex(s.repo, bytes, next);
  const rotated: EnpkgConfig = { ...s.config, repositories: s.config.repositories.map((r) => ({ ...r, keys: [next.publicKey] })) };
  const [online] = await loadRepositories(rotated);
  assert.equal(online!.signed, true);
  const [offline] = await loadRepositories(rotated, { offline: true });
  assert.equal(offline!.signed, true);
});
