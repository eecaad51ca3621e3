/** Every configured repository's index, in priority order, reported as one `indexes` step. */
import { ErrorCodes, PkgError } from '../errors.js';
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
  /** Aborting it ends the wait at once with INTERRUPTED (a fetch under way is abandoned). */
  readonly signal?: AbortSignal;
}

/** `work`, or INTERRUPTED as soon as the signal is aborted, whichever comes first. */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return work;
  const interrupted = (): PkgError =>
    new PkgError(ErrorCodes.INTERRUPTED, 'interrupted while reading the repository indexes; nothing was changed', {
      hint: 'run the command again',
    });
  if (signal.aborted) return Promise.reject(interrupted());
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(interrupted());
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export async function loadIndexes(input: LoadIndexesInput): Promise<LoadedRepository[]> {
  const { loadRepositories } = await import('../repo/load.js');
  input.reporter.report({ type: 'indexes', phase: 'start', repositories: input.config.repositories.length });
  const load = loadRepositories(input.config, {
    offline: input.offline === true,
    reporter: input.reporter,
    ...(input.serials ? { serials: input.serials } : {}),
    ...(input.clock ? { now: input.clock } : {}),
  });
  const repos = await untilAborted(load, input.signal);
  input.reporter.report({ type: 'indexes', phase: 'done', repositories: repos.length });
  return repos;
}

/** The indexes as a session reads them: with the serials its prefix accepted. */
export function sessionIndexes(
  session: Session,
  opts: { readonly offline?: boolean; readonly clock?: () => Date; readonly signal?: AbortSignal },
  reporter: Reporter,
): Promise<LoadedRepository[]> {
  return loadIndexes({
    config: session.config,
    reporter,
    offline: opts.offline === true,
    serials: session.serials,
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
}
