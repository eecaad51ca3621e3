/**
 * The fetch stage: every egg a transaction installs, verified and in the cache, before anything is
 * staged.
 *
 *   validate the entries  ->  look each up in the cache  ->  fetch the rest, `parallel` at a time
 *   (a location, then its mirrors)  ->  the cached paths, in request order
 *
 * Eggs with the same content (the same sha256 under several names or repositories) are fetched once.
 * The first failure stops the others (their partial files removed) and is thrown; eggs already
 * verified stay in the cache. The cache rule is in egg-cache.ts.
 */
import { ErrorCodes } from 'egginst/core';
import { PkgError } from '../errors.js';
import { createHttpClient, type HttpClient } from '../http/client.js';
import type { IndexEntry } from '../repo/types.js';
import { FetchErrorCodes, FetchWarningCodes } from './errors.js';
import { createTracker, type TrackedEgg, type Tracker } from './progress.js';
import { fetchFromRepository, locationsOf, type SourceContext } from './sources.js';
import { addressOf, probe, reverify, type Address, type Expected, type Probe, type Stored } from './egg-cache.js';
import type { FetchedEgg, FetchOptions, FetchRequest } from './types.js';

export type * from './types.js';
export { FetchErrorCodes, FetchWarningCodes } from './errors.js';
export { cachedEgg, eggPath, EGGS_DIR } from './egg-cache.js';
export { cleanCache, type CleanOptions, type CleanResult } from './clean.js';

interface Job extends TrackedEgg {
  readonly request: FetchRequest;
  readonly address: Address;
  readonly expected: Expected;
  probe: Probe;
}

const EGG_FILE = /^[A-Za-z0-9_.]+-[A-Za-z0-9_.]+-\d+\.egg$/;

function invalid(entry: IndexEntry, why: string): PkgError {
  return new PkgError(FetchErrorCodes.EGG_ENTRY_INVALID, `${JSON.stringify(entry.eggName)} in repository ${entry.repository}: ${why}`, {
    hint: 'the repository\'s index is wrong: tell its publisher to rebuild it with "enpkg repo index"',
    details: { egg: entry.eggName, repository: entry.repository },
  });
}

/** Index strings are hostile: they become a URL, a path in the repository and a path in the cache. */
function expectedOf(entry: IndexEntry): Expected {
  if (typeof entry.eggName !== 'string' || !EGG_FILE.test(entry.eggName))
    throw invalid(entry, 'not an egg file name of the form <name>-<version>-<build>.egg');
  if (!Number.isSafeInteger(entry.size) || entry.size < 0) throw invalid(entry, `the size ${String(entry.size)} is not a byte count`);
  const sha256 = entry.sha256 ?? null;
  const md5 = entry.md5 ?? null;
  if (sha256 !== null && !/^[0-9a-f]{64}$/.test(sha256)) throw invalid(entry, 'the sha256 is not 64 lower-case hex digits');
  if (md5 !== null && !/^[0-9a-f]{32}$/.test(md5)) throw invalid(entry, 'the md5 is not 32 lower-case hex digits');
  if (sha256 === null && md5 === null) throw invalid(entry, 'it has neither a sha256 nor an md5, so it cannot be verified');
  return { size: entry.size, sha256, md5 };
}

/** One job per distinct content; `byRequest[i]` is request i's job. */
function plan(requests: readonly FetchRequest[], opts: FetchOptions): { jobs: Job[]; byRequest: Job[] } {
  const jobs = new Map<string, Job>();
  const byRequest: Job[] = [];
  for (const request of requests) {
    const { entry } = request;
    const expected = expectedOf(entry);
    const address = addressOf(expected)!;
    const id = `${address.algorithm}:${address.digest}`;
    let job = jobs.get(id);
    if (job && job.expected.size !== expected.size) {
      throw invalid(
        entry,
        `the same ${address.algorithm} as ${job.eggName} in repository ${job.repository}, ` +
          `with another size (${expected.size}, not ${job.expected.size})`,
      );
    }
    if (!job) {
      job = {
        key: entry.key,
        eggName: entry.eggName,
        repository: request.repository.name,
        size: expected.size,
        request,
        address,
        expected,
        probe: probe(opts.cacheDir, address, expected.size),
      };
      jobs.set(id, job);
    }
    byRequest.push(job);
  }
  return { jobs: [...jobs.values()], byRequest };
}

function notCached(missing: readonly Job[], cacheDir: string): PkgError {
  const names = missing.map((j) => j.eggName);
  return new PkgError(
    FetchErrorCodes.EGG_NOT_CACHED,
    `${names.length === 1 ? `${names[0]} is` : `${names.length} eggs are`} not in the egg cache (${cacheDir}), ` +
      `and --offline forbids downloading ${names.length === 1 ? 'it' : `them: ${names.join(', ')}`}`,
    {
      hint: 'run again without --offline',
      details: { eggs: names },
    },
  );
}

function interrupted(): PkgError {
  return new PkgError(
    ErrorCodes.INTERRUPTED,
    'interrupted while fetching eggs; nothing was installed (eggs already verified stay in the cache)',
    { hint: 'run the command again' },
  );
}

/** One egg: re-verify a cached copy that needs it, else fetch it. Returns whether it was cached. */
async function runJob(job: Job, ctx: SourceContext, tracker: Tracker, opts: FetchOptions): Promise<{ stored: Stored; cached: boolean }> {
  const warnDropped = (why: string): void =>
    opts.reporter?.report({
      type: 'warning',
      warning: {
        code: FetchWarningCodes.CACHE_EGG_CORRUPT,
        message: `the cached copy of ${job.eggName} (${job.probe.kind === 'hit' ? '' : job.probe.path}) ${why}: removed, fetching it again`,
        subject: job.eggName,
      },
    });
  if (job.probe.kind === 'unverified') {
    tracker.start(job, 'verifying');
    const stored = await reverify(job.probe.path, job.expected, (n) => tracker.bytes(job, n), ctx.signal);
    if (stored) {
      tracker.end(job, 'cached');
      return { stored, cached: true };
    }
    warnDropped('did not match its index entry (or went missing)');
    if (locationsOf(job.request.repository, ctx.offline).length === 0) throw notCached([job], opts.cacheDir);
  } else if (job.probe.kind === 'miss' && job.probe.removed !== null) {
    warnDropped(`was unusable (${job.probe.removed})`);
  }
  tracker.start(job, 'fetching');
  const stored = await fetchFromRepository(
    {
      entry: job.request.entry,
      repository: job.request.repository,
      path: job.probe.kind === 'hit' ? job.probe.stored.path : job.probe.path,
      expected: job.expected,
      restart: () => tracker.restart(job),
      onBytes: (n) => tracker.bytes(job, n),
    },
    ctx,
  );
  tracker.end(job, 'done');
  ctx.reporter?.report({ type: 'info', message: `${job.eggName}: fetched and verified (${stored.path})` });
  return { stored, cached: false };
}

/**
 * Every requested egg verified (size, then sha256; md5 with a warning for a legacy entry) and in the
 * cache at `<cacheDir>/eggs/<sha256[0:2]>/<sha256>.egg`; results in request order.
 */
export async function fetchEggs(requests: readonly FetchRequest[], opts: FetchOptions): Promise<FetchedEgg[]> {
  if (opts.signal?.aborted) throw interrupted();
  const { jobs, byRequest } = plan(requests, opts);
  for (const job of jobs) {
    if (job.expected.sha256 === null) {
      opts.reporter?.report({
        type: 'warning',
        warning: {
          code: FetchWarningCodes.EGG_MD5_ONLY,
          message:
            `${job.eggName} in repository ${job.repository} has no sha256 in its index (Enstaller's legacy index.json): ` +
            'verified by md5 only, which cannot protect it against tampering',
          subject: job.eggName,
        },
      });
    }
  }
  const offline = opts.offline === true;
  const missing = jobs.filter((j) => j.probe.kind === 'miss' && locationsOf(j.request.repository, offline).length === 0);
  if (offline && missing.length > 0) throw notCached(missing, opts.cacheDir);

  const tracker = createTracker(opts.reporter, jobs.length);
  const results = new Map<Job, { stored: Stored; cached: boolean }>();
  const queue: Job[] = [];
  for (const job of jobs) {
    if (job.probe.kind === 'hit') {
      results.set(job, { stored: job.probe.stored, cached: true });
      tracker.cached(job);
      opts.reporter?.report({ type: 'info', message: `${job.eggName}: in the cache (${job.probe.stored.path})` });
    } else {
      queue.push(job);
    }
  }

  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let http: HttpClient | null = opts.http ?? null;
  const ctx: SourceContext = {
    http: () =>
      (http ??= createHttpClient({
        settings: opts.network,
        ...(opts.reporter ? { reporter: opts.reporter } : {}),
        ...(opts.env ? { env: opts.env } : {}),
      })),
    env: opts.env ?? process.env,
    offline,
    fsync: opts.fsync !== false,
    signal,
    ...(opts.reporter ? { reporter: opts.reporter } : {}),
  };
  let failure: { error: unknown } | null = null;
  const worker = async (): Promise<void> => {
    for (let job = queue.shift(); job && !failure; job = queue.shift()) {
      try {
        results.set(job, await runJob(job, ctx, tracker, opts));
      } catch (e) {
        tracker.end(job, 'failed');
        if (!failure) {
          failure = { error: e };
          stop.abort();
        }
      }
    }
  };
  try {
    const width = Math.max(1, Math.min(Math.floor(opts.parallel) || 1, queue.length));
    await Promise.all(Array.from({ length: width }, worker));
  } finally {
    if (http && !opts.http) await (http as HttpClient).close();
  }
  if (opts.signal?.aborted) throw interrupted();
  if (failure) throw (failure as { error: unknown }).error;
  return byRequest.map((job, i) => {
    const r = results.get(job)!;
    const entry = requests[i]!.entry;
    return { key: entry.key, eggName: entry.eggName, path: r.stored.path, sha256: r.stored.sha256, size: r.stored.size, cached: r.cached };
  });
}
