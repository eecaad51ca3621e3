/**
 * manifest.json: what a version directory (and the `enpkg/` tree of enpkg's own egg) says about
 * itself. Written by tools/build-egg.ts; read to know the running version and to check an egg
 * before it is put beside the running one.
 */
import { readFileSync } from 'node:fs';
import { EnpkgErrorCodes, PkgError } from '../errors.js';

export interface Manifest {
  name: 'enpkg';
  /** package.json's semver. */
  version: string;
  build: number;
  /** The Node versions it runs on (a semver range, from package.json's engines). */
  node: string;
  /** Where its native addons were compiled: process.platform, process.arch, and the Node-API/ABI. */
  platform: string;
  arch: string;
  modules: string;
  /** The entry points, relative to the version directory. */
  entries: { enpkg: string; egginst: string };
}

export function parseManifest(text: string, source: string): Manifest {
  let m: Partial<Manifest>;
  try {
    m = JSON.parse(text) as Partial<Manifest>;
  } catch (e) {
    throw bad(source, `it is not JSON (${(e as Error).message})`);
  }
  if (m === null || typeof m !== 'object') throw bad(source, 'it is not an object');
  if (m.name !== 'enpkg') throw bad(source, `name is ${JSON.stringify(m.name)}, not "enpkg"`);
  for (const k of ['version', 'node', 'platform', 'arch', 'modules'] as const) {
    if (typeof m[k] !== 'string' || !m[k]) throw bad(source, `${k} is missing`);
  }
  if (!Number.isInteger(m.build) || (m.build as number) < 0) throw bad(source, 'build is not a whole number');
  if (!m.entries || typeof m.entries.enpkg !== 'string' || typeof m.entries.egginst !== 'string') throw bad(source, 'entries is missing');
  return m as Manifest;
}

function bad(source: string, why: string): PkgError {
  return new PkgError(EnpkgErrorCodes.SELF_EGG_INVALID, `${source} is not a valid enpkg manifest: ${why}`, {
    hint: 'build the egg again with npm run build:egg',
  });
}

let running: Manifest | null | undefined;

/** The manifest beside the running bundle; null when running from a source checkout. */
export function runningManifest(): Manifest | null {
  if (running !== undefined) return running;
  try {
    const url = new URL('./manifest.json', import.meta.url);
    running = parseManifest(readFileSync(url, 'utf8'), url.pathname);
  } catch {
    running = null;
  }
  return running;
}

/** What enpkg reads of its own package.json. */
export interface PackageJson {
  version?: string;
  engines?: { node?: string };
}

let packageJson: PackageJson | null | undefined;

/**
 * enpkg's package.json in a source checkout (packages/enpkg/package.json, three levels above this
 * module in dist/src/self/); null where there is none (a bundle carries manifest.json instead).
 */
export function sourcePackageJson(): PackageJson | null {
  if (packageJson !== undefined) return packageJson;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as unknown;
    packageJson = pkg !== null && typeof pkg === 'object' ? (pkg as PackageJson) : null;
  } catch {
    packageJson = null;
  }
  return packageJson;
}

/**
 * The running enpkg's version, the one lookup (`enpkg --version`, the egg builder, self-update):
 * the bundle's manifest.json, else the source checkout's package.json, else "unknown".
 */
export function enpkgVersion(): string {
  const v = runningManifest()?.version ?? sourcePackageJson()?.version;
  return typeof v === 'string' && v !== '' ? v : 'unknown';
}
