/**
 * Every configured repository's index, in priority order, reported as one `indexes` step. A sharded
 * repository gives the packages `want` reaches (repo/sharded.ts); a monolithic one its whole index.
 */
import type { Warning } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { RepoWarningCodes } from '../repo/errors.js';
import type { IndexWant } from '../repo/sharded.js';
import type { EnpkgConfig, LoadedRepository, SerialStore } from '../repo/types.js';
import type { Reporter } from '../report.js';
import type { Session } from '../session.js';

export interface LoadIndexesInput {
  readonly config: EnpkgConfig;
  readonly reporter: Reporter;
  readonly offline?: boolean;
  readonly clock?: () => Date;
  /** Accepted serials (the session's); default: the user's index cache only. */
  readonly serials?: SerialStore;
  /** Aborting it stops every fetch with INTERRUPTED. */
  readonly signal?: AbortSignal;
  /** The packages the command needs (default: all). */
  readonly want?: IndexWant;
}

/**
 * An unreachable repository is left out with a REPO_SKIPPED warning while another one loads
 * (repo/sharded.ts `reachable`); the operations say which was skipped when what they were asked for
 * cannot be found without it (`unreachableNote`).
 */
export async function loadIndexes(input: LoadIndexesInput): Promise<LoadedRepository[]> {
  const { loadIndexSet } = await import('../repo/sharded.js');
  input.reporter.report({ type: 'indexes', phase: 'start', repositories: input.config.repositories.length });
  const repos = await loadIndexSet(input.config, {
    offline: input.offline === true,
    ...(input.want ? { want: input.want } : {}),
    reporter: input.reporter,
    ...(input.serials ? { serials: input.serials } : {}),
    ...(input.clock ? { now: input.clock } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
  });
  input.reporter.report({ type: 'indexes', phase: 'done', repositories: repos.length });
  return repos;
}

/**
 * An error about what could not be found, when repositories were left out: it names them (they may
 * have it). Other errors, and runs where nothing was left out, pass unchanged.
 */
export function unreachableNote(e: unknown, warnings: readonly Warning[]): unknown {
  const skipped = warnings.filter((w) => w.code === RepoWarningCodes.REPO_SKIPPED).map((w) => w.subject ?? '?');
  if (!(e instanceof PkgError) || skipped.length === 0) return e;
  if (e.code !== EnpkgErrorCodes.PACKAGE_NOT_FOUND && e.code !== EnpkgErrorCodes.UNSATISFIABLE) return e;
  const which = skipped.length === 1 ? `repository ${skipped[0]} was` : `repositories ${skipped.join(', ')} were`;
  return new PkgError(e.code, `${e.message} (the ${which} not reachable, and may have it)`, {
    hint: 'check the network (or the proxy) and run the command again; --offline uses cached indexes',
    cause: e,
    details: { ...e.details, unreachable: skipped },
  });
}

/** The indexes as a session reads them: with the serials its prefix accepted. */
export function sessionIndexes(
  session: Session,
  opts: { readonly offline?: boolean; readonly clock?: () => Date; readonly signal?: AbortSignal },
  reporter: Reporter,
  want?: IndexWant,
): Promise<LoadedRepository[]> {
  return loadIndexes({
    ...(want ? { want } : {}),
    config: session.config,
    reporter,
    offline: opts.offline === true,
    serials: session.serials,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
