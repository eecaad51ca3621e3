/**
 * The available packages compiled once for many solves: versions parsed, packages grouped by key and
 * sorted newest first, dependency strings parsed on first use (memoized).
 */
import { PkgError } from '../errors.js';
import { parseRequirement } from '../requirement.js';
import type { EggVersion, PackageInfo, Requirement } from '../types.js';
import { compareVersions, parseUpstream } from '../version.js';

export interface Repository {
  readonly packages: readonly PackageInfo[];
  readonly versions: readonly EggVersion[];
  /** Package indices by key, newest first. */
  readonly byKey: ReadonlyMap<string, readonly number[]>;
  /** Parsed requirement strings (or the error that parsing one gave). */
  readonly requirements: Map<string, Requirement | PkgError>;
  /** Parsed `depends` of each package, by package index, filled on first use. */
  readonly depends: (readonly (Requirement | PkgError)[] | undefined)[];
  /** How many package names depend on each key: the solver decides popular ones late. */
  readonly popularity: ReadonlyMap<string, number>;
}

/**
 * How many package names depend on each key, judged by each name's newest package (a cheap scan of
 * the strings, no full parse; 1 package a name keeps it fast on a large index).
 */
function countDependents(packages: readonly PackageInfo[], byKey: ReadonlyMap<string, readonly number[]>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const ids of byKey.values()) {
    for (const d of packages[ids[0]!]!.depends) {
      let end = 0;
      while (end < d.length) {
        const c = d.charCodeAt(end);
        // [A-Za-z0-9_.]
        if (!((c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 46)) break;
        end++;
      }
      if (end === 0) continue;
      const key = d.slice(0, end).toLowerCase();
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

const EMPTY: readonly number[] = [];

/** Parse `version-build` of a package, memoizing the upstream parse. */
export function packageVersion(p: PackageInfo, upstreams: Map<string, EggVersion>): EggVersion {
  let u = upstreams.get(p.version);
  if (u === undefined) {
    u = parseUpstream(p.version);
    upstreams.set(p.version, u);
  }
  return { text: `${p.version}-${p.build}`, upstream: u.upstream, build: p.build, hasBuild: true, key: u.key, parts: u.parts };
}

export function createRepository(packages: readonly PackageInfo[]): Repository {
  const upstreams = new Map<string, EggVersion>();
  const versions: EggVersion[] = new Array(packages.length);
  const byKey = new Map<string, number[]>();
  for (let i = 0; i < packages.length; i++) {
    const p = packages[i]!;
    versions[i] = packageVersion(p, upstreams);
    const list = byKey.get(p.key);
    if (list) list.push(i);
    else byKey.set(p.key, [i]);
  }
  for (const list of byKey.values()) {
    if (list.length > 1) list.sort((a, b) => compareVersions(versions[b]!, versions[a]!) || a - b);
  }
  return {
    packages,
    versions,
    byKey,
    requirements: new Map(),
    depends: new Array(packages.length),
    popularity: countDependents(packages, byKey),
  };
}

export function candidatesOf(repo: Repository, key: string): readonly number[] {
  return repo.byKey.get(key) ?? EMPTY;
}

/** Parse a requirement string through the repository's memo; an invalid one yields its PkgError. */
export function cachedRequirement(cache: Map<string, Requirement | PkgError>, text: string): Requirement | PkgError {
  let r = cache.get(text);
  if (r === undefined) {
    try {
      r = parseRequirement(text);
    } catch (e) {
      if (!(e instanceof PkgError)) throw e;
      r = e;
    }
    cache.set(text, r);
  }
  return r;
}

export function dependsOf(repo: Repository, id: number): readonly (Requirement | PkgError)[] {
  let d = repo.depends[id];
  if (d === undefined) {
    d = repo.packages[id]!.depends.map((s) => cachedRequirement(repo.requirements, s));
    repo.depends[id] = d;
  }
  return d;
}
