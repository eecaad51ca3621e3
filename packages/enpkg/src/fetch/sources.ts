/**
 * Where an egg's bytes come from: a repository's location, then its mirrors in order when one fails
 * in transport (like the index fetch). A local directory (or `file://`) is copied into the cache, an
 * http(s) location is downloaded; both go through a `.partial` that is hashed as it is written and
 * renamed into place only when it matches. A size or hash mismatch is final: another mirror is not
 * tried for an egg that a location served wrong.
 */
import type { Stats } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { PkgError } from '../errors.js';
import type { HttpClient } from '../http/client.js';
import { authorizationHeader } from '../repo/auth.js';
import { isTransportError } from '../repo/fetch.js';
import { fromFirstLocation } from '../repo/failover.js';
import { redactUrl } from '../repo/location.js';
import { NOT_REGULAR, openRegular, readFailure } from '../readfile.js';
import type { IndexEntry, RepoLocation, RepositoryConfig } from '../repo/types.js';
import { FetchErrorCodes, notFound, sizeMismatch, type EggSubject } from './errors.js';
import { openPartial, type Expected, type Stored } from './egg-cache.js';
import type { Reporter } from '../report.js';

export interface SourceContext {
  /** The HTTP client, created on first use. */
  readonly http: () => HttpClient;
  readonly env: NodeJS.ProcessEnv;
  readonly offline: boolean;
  readonly fsync: boolean;
  readonly signal: AbortSignal;
  readonly reporter?: Reporter | undefined;
}

export interface SourceJob {
  readonly entry: IndexEntry;
  readonly repository: RepositoryConfig;
  /** The final cache path. */
  readonly path: string;
  readonly expected: Expected;
  /** An attempt starts over: the bytes counted so far for this egg are void. */
  readonly restart: () => void;
  readonly onBytes: (n: number) => void;
}

/** The locations to try, in order (offline: local directories only). */
export function locationsOf(repo: RepositoryConfig, offline: boolean): RepoLocation[] {
  const all = [repo.location, ...repo.mirrors];
  return offline ? all.filter((l) => l.kind === 'dir') : all;
}

/** Failures after which the next mirror is tried. */
function failsOver(e: unknown): e is PkgError {
  return (
    isTransportError(e) ||
    (e instanceof PkgError && (e.code === FetchErrorCodes.EGG_NOT_FOUND || e.code === FetchErrorCodes.EGG_READ_FAILED))
  );
}

const CHUNK = 1 << 20;

async function copyLocal(dir: string, job: SourceJob, ctx: SourceContext): Promise<Stored> {
  const file = join(dir, job.entry.eggName);
  const subject: EggSubject = { eggName: job.entry.eggName, repository: job.repository.name, shown: file };
  const readFailed = (e: unknown): PkgError =>
    new PkgError(
      FetchErrorCodes.EGG_READ_FAILED,
      `${job.entry.eggName} from repository ${job.repository.name}: cannot read ${file} (${readFailure(e)})`,
      {
        hint:
          (e as NodeJS.ErrnoException).code === NOT_REGULAR
            ? 'a repository directory holds its eggs as regular files; replace that one'
            : 'check the repository directory and its permissions',
        cause: e,
        details: { egg: job.entry.eggName, repository: job.repository.name, location: file },
      },
    );
  let fh: FileHandle;
  let st: Stats;
  try {
    ({ fh, stats: st } = await openRegular(file));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(subject);
    throw readFailed(e);
  }
  try {
    // The size is known before a byte is copied: a wrong one leaves nothing behind.
    if (st.size !== job.expected.size) throw sizeMismatch(subject, job.expected.size, st.size);
    job.restart();
    const sink = await openPartial({ path: job.path, expected: job.expected, subject, fsync: ctx.fsync, onBytes: job.onBytes });
    try {
      const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, job.expected.size)));
      for (;;) {
        ctx.signal.throwIfAborted();
        let n: number;
        try {
          n = (await fh.read(buf, 0, buf.length, null)).bytesRead;
        } catch (e) {
          throw readFailed(e);
        }
        if (n === 0) break;
        await sink.write(buf.subarray(0, n));
      }
    } catch (e) {
      await sink.abort();
      throw e;
    }
    return await sink.finish();
  } finally {
    await fh.close().catch(() => {});
  }
}

async function download(base: string, job: SourceJob, ctx: SourceContext, authorization: string | null): Promise<Stored> {
  const url = new URL(job.entry.eggName, base).toString();
  const subject: EggSubject = { eggName: job.entry.eggName, repository: job.repository.name, shown: redactUrl(url) };
  const r = await ctx.http().download({
    url,
    authorization,
    allowHttp: job.repository.insecure,
    what: `${job.entry.eggName} from repository ${job.repository.name}`,
    signal: ctx.signal,
    open: async ({ contentLength }) => {
      if (contentLength !== null && contentLength !== job.expected.size) throw sizeMismatch(subject, job.expected.size, contentLength);
      job.restart();
      return openPartial({ path: job.path, expected: job.expected, subject, fsync: ctx.fsync, onBytes: job.onBytes });
    },
  });
  if (r.status === 'not-found') throw notFound(subject);
  return r.value;
}

/** The egg from the first location that has it, verified and renamed into the cache. */
export async function fetchFromRepository(job: SourceJob, ctx: SourceContext): Promise<Stored> {
  const repo = job.repository;
  let authorization: string | null | undefined;
  return fromFirstLocation({
    locations: locationsOf(repo, ctx.offline),
    attempt: (loc) => {
      if (loc.kind === 'dir') return copyLocal(loc.path, job, ctx);
      authorization ??= authorizationHeader(repo, ctx.env);
      return download(loc.url, job, ctx, authorization);
    },
    failsOver,
    subject: job.entry.eggName,
    warn: (warning) => ctx.reporter?.report({ type: 'warning', warning }),
    signal: ctx.signal,
  });
}
