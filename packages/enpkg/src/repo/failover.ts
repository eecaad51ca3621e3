/**
 * Mirror failover, for indexes and eggs alike: try a repository's locations in order; a failure the
 * caller calls transport (connection, timeout, 5xx, not found...) moves on to the next location with
 * a warning, anything else (a bad signature, a hash mismatch, an interrupt) is final. When every
 * location failed, the last failure is thrown, with how many locations were tried.
 */
import type { Warning } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { describeLocation } from './location.js';
import { RepoWarningCodes } from './errors.js';
import type { RepoLocation } from './types.js';

export interface FailoverOptions<T> {
  /** The repository's location, then its mirrors. */
  readonly locations: readonly RepoLocation[];
  /** One attempt at one location. */
  readonly attempt: (location: RepoLocation) => Promise<T>;
  /** Whether the next location may do better after this failure. */
  readonly failsOver: (e: unknown) => e is PkgError;
  /** What the warnings are about (a repository name, an egg file name). */
  readonly subject: string;
  readonly warn?: ((w: Warning) => void) | undefined;
  /** Once aborted, a failure is final. */
  readonly signal?: AbortSignal | undefined;
}

/** The result of the first location that succeeds. */
export async function fromFirstLocation<T>(opts: FailoverOptions<T>): Promise<T> {
  const { locations } = opts;
  if (locations.length === 0) throw new PkgError(EnpkgErrorCodes.INTERNAL, `no location to try for ${opts.subject}`);
  let lastError: PkgError | undefined;
  for (const [i, location] of locations.entries()) {
    try {
      return await opts.attempt(location);
    } catch (e) {
      if (!opts.failsOver(e) || opts.signal?.aborted) throw e;
      lastError = e;
      const next = locations[i + 1];
      if (next) {
        opts.warn?.({
          code: RepoWarningCodes.MIRROR_FAILOVER,
          message: `${e.message}; trying ${i === 0 ? 'mirror' : 'next mirror'} ${describeLocation(next)}`,
          subject: opts.subject,
        });
      }
    }
  }
  if (locations.length > 1) lastError!.details.triedLocations = locations.length;
  throw lastError!;
}
