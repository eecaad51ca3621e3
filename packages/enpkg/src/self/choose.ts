/**
 * Which enpkg to move to: pure functions of the repositories' entries, the running version and the
 * request. Versions of enpkg are semver (package.json's), compared with the semver package, then by
 * build. Never a downgrade unless a version is named.
 */
import semver from 'semver';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { fitsEnvironment } from '../platform.js';
import type { IndexEntry } from '../repo/types.js';
import type { Environment } from '../types.js';
import { versionId } from './pointer.js';

export interface SelfVersion {
  version: string;
  build: number;
}

export function compareSelf(a: SelfVersion, b: SelfVersion): number {
  return semver.compare(a.version, b.version) || a.build - b.build;
}

/** The repositories' eggs of enpkg that can run in `env` (semver versions; fitsEnvironment). */
export function selfCandidates(entries: readonly IndexEntry[], env: Environment): IndexEntry[] {
  return entries
    .filter((e) => e.key === 'enpkg' && semver.valid(e.version) !== null)
    .filter((e) => fitsEnvironment(e, env))
    .sort((a, b) => compareSelf(b, a));
}

export type SelfWant = { kind: 'newest' } | { kind: 'version'; version: string };

export interface SelfChoice {
  entry: IndexEntry;
  id: string;
  /** Older than the running version (only ever when a version was named). */
  downgrade: boolean;
}

/**
 * The egg to move to, or null when the running version is already the newest (or the named one).
 * Versions that failed their first start here are skipped unless named.
 */
export function chooseSelf(
  candidates: readonly IndexEntry[],
  current: SelfVersion | null,
  want: SelfWant,
  failed: readonly string[] = [],
): SelfChoice | null {
  const id = (e: SelfVersion): string => versionId(e.version, e.build);
  if (want.kind === 'version') {
    const exact = candidates.find((e) => id(e) === want.version);
    const named =
      exact ?? candidates.find((e) => e.version === want.version || semver.eq(e.version, semver.valid(want.version) ?? '0.0.0-none'));
    if (!named) {
      const have = [...new Set(candidates.map(id))].slice(0, 10);
      throw new PkgError(
        EnpkgErrorCodes.SELF_VERSION_NOT_FOUND,
        `no repository has enpkg ${want.version} for this machine${have.length ? ` (there is ${have.join(', ')})` : ''}`,
        {
          hint: have.length ? 'name one of those with --version' : 'add the repository that publishes enpkg',
        },
      );
    }
    if (current && compareSelf(named, current) === 0) return null;
    return { entry: named, id: id(named), downgrade: current !== null && compareSelf(named, current) < 0 };
  }
  const newest = candidates.find((e) => !failed.includes(id(e)));
  if (!newest || (current && compareSelf(newest, current) <= 0)) return null;
  return { entry: newest, id: id(newest), downgrade: false };
}

/** Versions newer than `current` that are skipped because they failed their first start here. */
export function skippedVersions(candidates: readonly IndexEntry[], current: SelfVersion, failed: readonly string[]): string[] {
  const ids = candidates.filter((e) => compareSelf(e, current) > 0).map((e) => versionId(e.version, e.build));
  return [...new Set(ids.filter((id) => failed.includes(id)))];
}
