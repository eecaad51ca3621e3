/**
 * Queries over loaded indexes: `search` (names matching a pattern, their versions, which one is
 * installed) and `info` (every version of one package across repositories). Pure functions of the
 * loaded repositories and the installed list.
 */
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { compareVersions, versionOf } from '../version.js';
import { environment, fitsEnvironment } from '../platform.js';
import type { EggVersion, Environment } from '../types.js';
import { RepoErrorCodes } from './errors.js';
import type { IndexEntry, LoadedRepository } from './types.js';

export interface InstalledRef {
  readonly key: string;
  readonly name: string;
  readonly version: string;
  readonly build: number;
}

export interface SearchVersion {
  readonly version: string;
  readonly build: number;
  readonly repository: string;
  readonly installed: boolean;
}

export interface SearchRow {
  readonly name: string;
  readonly key: string;
  /** Oldest first. */
  readonly versions: SearchVersion[];
  /** `version-build` of the installed package, or null. */
  readonly installed: string | null;
}

export interface QueryOptions {
  /** Only entries that fit this environment are offered (fitsEnvironment). Default: this machine. */
  readonly environment?: Environment;
  /** This machine with this Python (`X.Y`; null: any Python): when no `environment` is given. */
  readonly python?: string | null;
}

const environmentOf = (opts: QueryOptions): Environment => opts.environment ?? environment(opts.python ?? null);

type Versioned = { entry: IndexEntry; version: EggVersion; order: number };

function groupByKey(repos: readonly LoadedRepository[], opts: QueryOptions, filter?: (key: string) => boolean): Map<string, Versioned[]> {
  const byKey = new Map<string, Versioned[]>();
  const env = environmentOf(opts);
  let order = 0;
  for (const r of repos) {
    for (const e of r.index.entries) {
      order++;
      if ((filter && !filter(e.key)) || !fitsEnvironment(e, env)) continue;
      const list = byKey.get(e.key);
      const v: Versioned = { entry: e, version: versionOf(e.version, e.build), order };
      if (list) list.push(v);
      else byKey.set(e.key, [v]);
    }
  }
  for (const list of byKey.values()) list.sort((a, b) => compareVersions(a.version, b.version) || a.order - b.order);
  return byKey;
}

/** The search pattern as a case-insensitive regular expression; null: every name. */
export function compileSearchPattern(pattern: string | undefined): RegExp | null {
  if (pattern === undefined || pattern === '') return null;
  try {
    return new RegExp(pattern, 'i');
  } catch (e) {
    throw new PkgError(RepoErrorCodes.SEARCH_PATTERN_INVALID, `"${pattern}" is not a valid regular expression: ${(e as Error).message}`, {
      hint: 'give a JavaScript regular expression, e.g. "^num" or "py.*test"',
      details: { pattern },
    });
  }
}

/** Packages whose name matches `pattern` (case-insensitive regular expression; none: all), by name. */
export function searchPackages(
  repos: readonly LoadedRepository[],
  installed: readonly InstalledRef[],
  pattern: string | undefined,
  opts: QueryOptions = {},
): SearchRow[] {
  const re = compileSearchPattern(pattern);
  const installedByKey = new Map(installed.map((p) => [p.key, p] as const));
  const byKey = groupByKey(repos, opts, re ? (key) => re.test(key) : undefined);
  // Installed packages that match but are in no repository are listed too.
  for (const p of installed) if ((!re || re.test(p.key)) && !byKey.has(p.key)) byKey.set(p.key, []);
  const rows: SearchRow[] = [];
  for (const [key, list] of byKey) {
    const inst = installedByKey.get(key);
    const name = list.at(-1)?.entry.name ?? inst!.name;
    rows.push({
      name,
      key,
      installed: inst ? `${inst.version}-${inst.build}` : null,
      versions: list.map(({ entry }) => ({
        version: entry.version,
        build: entry.build,
        repository: entry.repository,
        installed: inst !== undefined && inst.version === entry.version && inst.build === entry.build,
      })),
    });
  }
  return rows.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export interface PackageInfoRow {
  readonly name: string;
  readonly version: string;
  readonly build: number;
  readonly repository: string;
  readonly eggName: string;
  readonly size: number;
  readonly sha256: string | null;
  readonly md5: string | null;
  readonly python: string | null;
  readonly platform: string | null;
  readonly arch: string | null;
  readonly depends: readonly string[];
  readonly summary: string | null;
  readonly installed: boolean;
}

export interface InfoResult {
  readonly name: string;
  readonly key: string;
  readonly installed: InstalledRef | null;
  /** Newest first. */
  readonly packages: PackageInfoRow[];
}

/** Every version of `name` (case-insensitive) across the repositories, newest first. */
export function packageInfo(
  repos: readonly LoadedRepository[],
  installed: readonly InstalledRef[],
  name: string,
  opts: QueryOptions = {},
): InfoResult {
  const key = name.toLowerCase();
  const list = groupByKey(repos, opts, (k) => k === key).get(key) ?? [];
  const inst = installed.find((p) => p.key === key) ?? null;
  if (list.length === 0 && inst === null) {
    const env = environmentOf(opts);
    const fit = [env.python && `Python ${env.python}`, env.platform, env.arch].filter(Boolean).join(', ');
    const where = repos.map((r) => r.config.name).join(', ') || 'any repository';
    throw new PkgError(
      EnpkgErrorCodes.PACKAGE_NOT_FOUND,
      `no package named ${JSON.stringify(name)} in ${where}${fit ? ` (for ${fit})` : ''}`,
      {
        hint: 'search for it: "enpkg search PATTERN"',
        details: { name },
      },
    );
  }
  const packages = list.reverse().map(({ entry: e }) => ({
    name: e.name,
    version: e.version,
    build: e.build,
    repository: e.repository,
    eggName: e.eggName,
    size: e.size,
    sha256: e.sha256,
    md5: e.md5,
    python: e.python ?? null,
    platform: e.platform ?? null,
    arch: e.arch ?? null,
    depends: e.depends,
    summary: e.summary,
    installed: inst !== null && inst.version === e.version && inst.build === e.build,
  }));
  return { name: packages[0]?.name ?? inst!.name, key, installed: inst, packages };
}
