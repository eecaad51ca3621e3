/**
 * Load the configured repositories' indexes:
 *
 *   fetch (cache validators; mirrors)  ->  verify signature  ->  decompress + parse + validate
 *   ->  rollback / expiry  ->  commit to the cache and remember the serial
 *
 * Nothing is written until every check passed: a bad new index never replaces the cached good one.
 * With `offline`, the cache is the only source. When every location is down (connection errors,
 * timeouts, 5xx) and a cached index exists, it is used with a warning (its signature, serial and expiry are checked
 * again like a new one).
 */
import { openIndexCache, repoCacheId, sha256Hex, type CachedIndex, type CachedIndexMeta, type IndexCache } from '../index-cache.js';
import { ErrorCodes, PkgError } from '../errors.js';
import { createHttpClient, type HttpClient } from '../http/client.js';
import { decodeIndex } from '../repodata/decode.js';
import { roomyYoungGeneration } from '../heap.js';
import { RepoErrorCodes, RepoWarningCodes } from './errors.js';
import { fetchIndex, isOutage, type FetchOutcome } from './fetch.js';
import { locationKey } from './location.js';
import type { EnpkgConfig, IndexOrigin, LoadedRepository, RepoIndex, RepositoryConfig, SerialStore } from './types.js';
import type { Reporter } from '../report.js';
import { checkFreshness, checkLegacyAllowed, verifyIndexSignature } from './verify.js';

export interface LoadRepositoriesOptions {
  readonly offline?: boolean;
  readonly reporter?: Reporter | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly now?: () => Date;
  /** Injected for tests; default: the HTTP client built from `config.network`. */
  readonly http?: HttpClient;
  /** Default: files beside the index cache. */
  readonly serials?: SerialStore;
  /** Aborting it stops every fetch with INTERRUPTED; nothing is cached or accepted after that. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * What the sharded client already got from the locations (repo/sharded.ts asks each location for
 * its root, then for its index, in one pass): the index fetched, or the failure of every location.
 */
export type Prefetched = { readonly outcome: FetchOutcome } | { readonly error: unknown };

interface Candidate {
  readonly format: 'zst' | 'legacy';
  readonly bytes: Buffer;
  readonly signature: Buffer | null;
  readonly origin: IndexOrigin;
  readonly source: string;
  /** Set when the bytes are new and should be cached once accepted. */
  readonly fresh: Extract<FetchOutcome, { kind: 'fetched' }> | null;
}

function fromCache(cached: CachedIndex, origin: IndexOrigin, source: string): Candidate {
  const format = cached.meta.format;
  if (format === 'root') throw new Error('unreachable: a cached root read as an index');
  return { format, bytes: cached.bytes, signature: cached.signature, origin, source, fresh: null };
}

/** The cached index of a repository (not the root of a sharded one: repo/sharded.ts reads that). */
function readCachedIndex(cache: IndexCache, repo: RepositoryConfig): CachedIndex | null {
  const cached = cache.read(repo);
  return cached?.meta.format === 'root' ? null : cached;
}

/**
 * The index bytes to check: fetched, or the cached copy (304, --offline, or an outage). The cached
 * bytes are read only when they are used; a fresh fetch is compared with the cache's metadata.
 */
async function obtain(
  repo: RepositoryConfig,
  cache: IndexCache,
  meta: CachedIndexMeta | null,
  opts: LoadRepositoriesOptions & { http: HttpClient; maxSize: number; prefetched?: Prefetched | undefined },
): Promise<Candidate> {
  const cacheSource = `the cached index of ${repo.name}`;
  if (opts.offline) {
    const cached = meta && readCachedIndex(cache, repo);
    if (!cached) {
      throw new PkgError(
        RepoErrorCodes.REPO_OFFLINE_NO_CACHE,
        `the index of ${repo.name} is not in the cache (${cache.dirOf(repo)}), and --offline forbids fetching it`,
        {
          hint: 'run once without --offline to fill the cache',
          details: { repository: repo.name },
        },
      );
    }
    return fromCache(cached, 'cache', cacheSource);
  }
  const fetchOpts = (cached: CachedIndexMeta | null) => ({
    http: opts.http,
    cached,
    maxSize: opts.maxSize,
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.reporter ? { reporter: opts.reporter } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  let outcome: FetchOutcome;
  try {
    const pre = opts.prefetched;
    if (pre === undefined) outcome = await fetchIndex(repo, fetchOpts(meta));
    else if ('error' in pre) throw pre.error;
    else outcome = pre.outcome;
  } catch (e) {
    const cached = meta && isOutage(e) ? readCachedIndex(cache, repo) : null;
    if (!cached) throw e;
    opts.reporter?.report({
      type: 'warning',
      warning: {
        code: RepoWarningCodes.INDEX_FROM_CACHE,
        message: `${(e as Error).message}; using the cached index (serial ${cached.meta.serial}, fetched ${cached.meta.fetchedAt})`,
        subject: repo.name,
      },
    });
    return fromCache(cached, 'cache', cacheSource);
  }
  if (outcome.kind === 'not-modified') {
    const cached = readCachedIndex(cache, repo);
    if (cached) {
      opts.reporter?.report({ type: 'info', message: `${outcome.shown}: not modified; using the cached copy` });
      return fromCache(cached, 'not-modified', outcome.shown);
    }
    // The cached bytes went missing or were damaged since their metadata was read: fetch it all.
    outcome = await fetchIndex(repo, fetchOpts(null));
    if (outcome.kind === 'not-modified') throw new Error('unreachable: 304 without validators');
  }
  return {
    format: outcome.format,
    bytes: outcome.bytes,
    signature: outcome.signature,
    origin: 'fetched',
    source: outcome.shown,
    fresh: outcome,
  };
}

export function interrupted(): PkgError {
  return new PkgError(ErrorCodes.INTERRUPTED, 'interrupted while reading the repository indexes; nothing was changed', {
    hint: 'run the command again',
  });
}

/** Load one repository's index through the whole pipeline. */
export async function loadRepository(
  repo: RepositoryConfig,
  cache: IndexCache,
  opts: LoadRepositoriesOptions & { http: HttpClient; maxSize: number; serials: SerialStore; prefetched?: Prefetched | undefined },
): Promise<LoadedRepository> {
  const cachedMeta = cache.readMeta(repo);
  const meta = cachedMeta?.format === 'root' ? null : cachedMeta;
  const candidate = await obtain(repo, cache, meta, opts);
  if (opts.signal?.aborted) throw interrupted();
  const repoId = repoCacheId(repo);
  const accepted = opts.serials.accepted(repoId);
  const source = `the index of ${repo.name} (${candidate.source})`;

  let signed = false;
  if (candidate.format === 'legacy') checkLegacyAllowed(repo, accepted, source);
  else signed = verifyIndexSignature(candidate.bytes, candidate.signature, repo, source);

  // A monolithic index may hold a million entries: give the heap room for building them.
  roomyYoungGeneration();
  const index: RepoIndex = decodeIndex(candidate.bytes, { format: candidate.format, source, repository: repo.name, maxSize: opts.maxSize });
  checkFreshness(index, {
    acceptedSerial: accepted,
    now: (opts.now ?? (() => new Date()))(),
    source,
    repo,
    serialFile: cache.serialFile(repo),
  });
  if (candidate.format === 'legacy') {
    opts.reporter?.report({
      type: 'warning',
      warning: {
        code: RepoWarningCodes.INDEX_LEGACY_MD5,
        message: `${source}: Enstaller's legacy index.json (unsigned, md5 only: md5 is weak and cannot protect the eggs against tampering)`,
        subject: repo.name,
      },
    });
  }

  const fresh = candidate.fresh;
  if (fresh !== null) {
    const sha256 = sha256Hex(fresh.bytes);
    const signatureSha256 = fresh.signature === null ? null : sha256Hex(fresh.signature);
    if (
      meta === null ||
      meta.sha256 !== sha256 ||
      meta.etag !== fresh.etag ||
      meta.url !== fresh.url ||
      meta.signatureSha256 !== signatureSha256
    ) {
      cache.write(repo, {
        meta: {
          version: 1,
          location: locationKey(repo.location),
          format: fresh.format,
          url: fresh.url,
          etag: fresh.etag,
          lastModified: fresh.lastModified,
          sha256,
          size: fresh.bytes.length,
          hasSignature: fresh.signature !== null,
          signatureSha256,
          serial: index.serial,
          repository: index.repository,
          fetchedAt: new Date().toISOString(),
        },
        bytes: fresh.bytes,
        signature: fresh.signature,
      });
    }
  }
  if (index.format === 'zst' && (accepted === null || index.serial > accepted)) opts.serials.accept(repoId, index.serial, index.repository);
  opts.reporter?.report({
    type: 'info',
    message:
      `${source}: ${index.entries.length} packages, serial ${index.serial}` +
      `${signed ? ', signature verified' : ''} (${candidate.origin})`,
  });
  return { config: repo, index, origin: candidate.origin, source: candidate.source, signed };
}

/** A command that reads indexes needs at least one repository. */
export function requireRepositories(config: EnpkgConfig): void {
  if (config.repositories.length === 0) {
    throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `no repositories configured${config.file ? ` in ${config.file}` : ''}`, {
      hint: 'add "repositories:" to the configuration, or give --repo URL|DIR',
    });
  }
}

/**
 * What loading a command's repositories needs, set up once for loadRepositories and loadIndexSet:
 * the repositories checked, the index cache, and the HTTP client (`opts.http`, else one built from
 * the configuration and closed when `fn` is done).
 */
export async function withIndexAccess<T>(
  config: EnpkgConfig,
  opts: LoadRepositoriesOptions,
  fn: (cache: IndexCache, http: HttpClient) => Promise<T>,
): Promise<T> {
  if (opts.signal?.aborted) throw interrupted();
  requireRepositories(config);
  const cache = openIndexCache(config.cacheDir);
  const http =
    opts.http ??
    createHttpClient({
      settings: config.network,
      ...(opts.reporter ? { reporter: opts.reporter } : {}),
      ...(opts.env ? { env: opts.env } : {}),
    });
  try {
    return await fn(cache, http);
  } finally {
    if (!opts.http) await http.close();
  }
}

/** Load every configured repository's index (in parallel), in configuration order. */
export function loadRepositories(config: EnpkgConfig, opts: LoadRepositoriesOptions = {}): Promise<LoadedRepository[]> {
  return withIndexAccess(config, opts, (cache, http) => {
    const serials = opts.serials ?? cache.serials;
    return Promise.all(
      config.repositories.map((repo) => loadRepository(repo, cache, { ...opts, http, serials, maxSize: config.network.maxIndexSize })),
    );
  });
}
