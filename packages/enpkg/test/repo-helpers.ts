/** Builders for the repository and index tests: temporary directories, index files, configurations. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compressIndex, INDEX_SCHEMA, readPrivateKey, signIndex, writeKeyPair, type IndexEntryJson } from 'enpkg';

/** A built fixture egg (`npm run fixtures`), e.g. `fixtureEgg('app-1.0.0-1.egg')`, found from the compiled tests (dist/test). */
export function fixtureEgg(fileName: string): string {
  const path = join(import.meta.dirname, '..', '..', '..', '..', 'fixtures', 'build', 'eggs', fileName);
  if (!existsSync(path)) throw new Error(`${path} does not exist: build the fixtures first (npm run fixtures)`);
  return path;
}

export function tmp(t: { after(fn: () => unknown): void }, prefix = 'enpkg-repo-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => (process.env.KEEP_TEST_TMP ? undefined : rmSync(dir, { recursive: true, force: true })));
  return dir;
}

export function entry(fileName: string, over: Partial<Record<keyof IndexEntryJson, unknown>> = {}): Record<string, unknown> {
  const m = /^(.+)-([^-]+)-(\d+)\.egg$/.exec(fileName);
  const [name, version, build] = m ? [m[1]!, m[2]!, Number(m[3])] : ['x', '1.0', 1];
  const sha = createHash('sha256').update(fileName).digest('hex');
  return {
    name,
    version,
    build,
    packages: [],
    python: null,
    platform: null,
    arch: null,
    size: 1000,
    sha256: sha,
    md5: sha.slice(0, 32),
    mtime: 1_700_000_000.5,
    summary: `the ${name} package`,
    ...over,
  };
}

export interface IndexSpec {
  serial?: number;
  expires?: string;
  repository?: string;
  packages?: Record<string, unknown>;
  /** Extra or replaced top-level keys. */
  top?: Record<string, unknown>;
}

export const DEFAULT_PACKAGES = (): Record<string, unknown> => ({
  'app-1.0.0-1.egg': entry('app-1.0.0-1.egg', { packages: ['libfoo >= 1.0', 'libbar'] }),
  'libfoo-1.0.0-1.egg': entry('libfoo-1.0.0-1.egg'),
  'libbar-2.0-1.egg': entry('libbar-2.0-1.egg'),
});

export function indexJson(spec: IndexSpec = {}): string {
  return JSON.stringify({
    schema: INDEX_SCHEMA,
    repository: spec.repository ?? 'test',
    serial: spec.serial ?? 1,
    generated: '2026-01-01T00:00:00Z',
    ...(spec.expires ? { expires: spec.expires } : {}),
    packages: spec.packages ?? DEFAULT_PACKAGES(),
    ...spec.top,
  });
}

export interface Keys {
  privateKeyFile: string;
  publicKey: string;
}

export function makeKeys(dir: string, name = 'key'): Keys {
  const r = writeKeyPair(join(dir, name));
  return { privateKeyFile: r.privateKeyFile, publicKey: r.publicKey };
}

/** Write DIR/index.json.zst (and its signature when `keys` is given); returns the compressed bytes. */
export function writeIndex(dir: string, spec: IndexSpec | Buffer, keys?: Keys): Buffer {
  mkdirSync(dir, { recursive: true });
  const bytes = Buffer.isBuffer(spec) ? spec : compressIndex(Buffer.from(indexJson(spec)));
  writeFileSync(join(dir, 'index.json.zst'), bytes);
  if (keys) writeFileSync(join(dir, 'index.json.zst.sig'), signIndex(bytes, readPrivateKey(keys.privateKeyFile)));
  else rmSync(join(dir, 'index.json.zst.sig'), { force: true });
  return bytes;
}

/** Every file under `dir` with its content hash: equal listings mean nothing changed. */
export function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string, rel: string): void => {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const p = join(d, n);
      const r = rel ? `${rel}/${n}` : n;
      if (statSync(p).isDirectory()) walk(p, r);
      else out[r] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir, '');
  return out;
}

/** A configuration file with one local repository; returns its path. */
export function writeConfig(dir: string, opts: { repo: string; keys?: string[]; cacheDir: string; extra?: string }): string {
  const file = join(dir, 'config.yaml');
  const keys = opts.keys?.length ? `\n    keys: [${opts.keys.map((k) => JSON.stringify(k)).join(', ')}]` : '';
  writeFileSync(
    file,
    `cache_dir: ${JSON.stringify(opts.cacheDir)}\n` +
      `repositories:\n  - path: ${JSON.stringify(opts.repo)}\n    name: test${keys}\n${opts.extra ?? ''}`,
  );
  return file;
}

/** Enstaller's legacy index.json with one entry (md5 only). */
export const LEGACY_INDEX = JSON.stringify({
  'nose-1.3.4-1.egg': {
    available: true,
    build: 1,
    md5: '7fbd5a7c83ebbb14c42141ed734505ef',
    mtime: 1409944509.0,
    name: 'nose',
    product: 'free',
    python: null,
    size: 334992,
    type: 'egg',
    version: '1.3.4',
  },
});
