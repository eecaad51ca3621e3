/**
 * Get a repository's index bytes (and signature) from its location, then its mirrors in order when
 * one fails: a local directory is read; an http(s) one is fetched with the cached copy's validators
 * (ETag / Last-Modified), so an unchanged index costs a 304. `index.json.zst` first; Enstaller's
 * legacy `index.json` only when there is no `index.json.zst`.
 */
import { join } from 'node:path';
import type { CachedIndexMeta } from '../index-cache.js';
import { PkgError } from '../errors.js';
import type { HttpClient } from '../http/client.js';
import { authorizationHeader } from './auth.js';
import { NOT_REGULAR, readFailure, readRegularFileSync } from '../readfile.js';
import { RepoErrorCodes } from './errors.js';
import { fromFirstLocation } from './failover.js';
import { describeLocation } from './location.js';
import type { Reporter } from '../report.js';
import type { RepoLocation, RepositoryConfig } from './types.js';

export const INDEX_FILE = 'index.json.zst';
export const SIGNATURE_FILE = 'index.json.zst.sig';
export const LEGACY_INDEX_FILE = 'index.json';
const MAX_SIGNATURE_SIZE = 4096;

export type FetchOutcome =
  | {
      readonly kind: 'fetched';
      readonly format: 'zst' | 'legacy';
      readonly bytes: Buffer;
      readonly signature: Buffer | null;
      /** Where it came from (a URL without credentials, or a path): validators are sent back there. */
      readonly url: string;
      /** The same, as it may be shown. */
      readonly shown: string;
      readonly etag: string | null;
      readonly lastModified: string | null;
    }
  | { readonly kind: 'not-modified'; readonly url: string; readonly shown: string };

export interface FetchIndexOptions {
  readonly http: HttpClient;
  /** The cached copy's metadata (only when its bytes are readable): its validators are sent. */
  readonly cached: CachedIndexMeta | null;
  readonly maxSize: number;
  readonly env?: NodeJS.ProcessEnv;
  readonly reporter?: Reporter | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** Errors after which the next mirror is tried (transport, not trust: a bad index is final). */
const FAILOVER = new Set<string>([
  RepoErrorCodes.REPO_NOT_FOUND,
  RepoErrorCodes.REPO_AUTH_FAILED,
  RepoErrorCodes.REPO_HTTP_ERROR,
  RepoErrorCodes.REPO_UNREACHABLE,
  RepoErrorCodes.REPO_TLS_FAILED,
  RepoErrorCodes.REPO_TIMEOUT,
  RepoErrorCodes.REPO_REDIRECT_REFUSED,
  RepoErrorCodes.REPO_TOO_LARGE,
]);

export function isTransportError(e: unknown): e is PkgError {
  return e instanceof PkgError && FAILOVER.has(e.code);
}

/**
 * The network is down or the server failing (connection errors, timeouts, 5xx): a cached index may
 * stand in. Not for answers that need the user (401/403, 404, refused redirects, TLS failures).
 */
export function isOutage(e: unknown): e is PkgError {
  return (
    e instanceof PkgError &&
    (e.code === RepoErrorCodes.REPO_UNREACHABLE ||
      e.code === RepoErrorCodes.REPO_TIMEOUT ||
      (e.code === RepoErrorCodes.REPO_HTTP_ERROR && e.details.retryable === true))
  );
}

/** Read a local file under a size cap; null when it does not exist. A FIFO or device is refused unread. */
export function readCapped(path: string, max: number, what: string): Buffer | null {
  try {
    return readRegularFileSync(path, max, (size) => {
      throw new PkgError(RepoErrorCodes.REPO_TOO_LARGE, `${what}: ${path} is ${size} bytes, more than the ${max} allowed`, {
        hint: 'raise network.max_index_size in the configuration if the repository really is that large',
        details: { file: path, limit: max },
      });
    });
  } catch (e) {
    if (e instanceof PkgError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    throw new PkgError(RepoErrorCodes.REPO_UNREACHABLE, `${what}: cannot read ${path} (${readFailure(e)})`, {
      hint:
        code === NOT_REGULAR
          ? 'a repository directory holds its index and eggs as regular files; replace that one'
          : 'check the repository directory and its permissions',
      cause: e,
      details: { file: path },
    });
  }
}

function fetchFromDir(dir: string, opts: FetchIndexOptions, what: string): FetchOutcome {
  const zst = readCapped(join(dir, INDEX_FILE), opts.maxSize, what);
  if (zst !== null) {
    const signature = readCapped(join(dir, SIGNATURE_FILE), MAX_SIGNATURE_SIZE, what);
    const path = join(dir, INDEX_FILE);
    return { kind: 'fetched', format: 'zst', bytes: zst, signature, url: path, shown: path, etag: null, lastModified: null };
  }
  const legacy = readCapped(join(dir, LEGACY_INDEX_FILE), opts.maxSize, what);
  if (legacy !== null) {
    const path = join(dir, LEGACY_INDEX_FILE);
    return { kind: 'fetched', format: 'legacy', bytes: legacy, signature: null, url: path, shown: path, etag: null, lastModified: null };
  }
  throw new PkgError(RepoErrorCodes.REPO_NOT_FOUND, `${what}: no ${INDEX_FILE} (nor ${LEGACY_INDEX_FILE}) in ${dir}`, {
    hint: `check the path; a publisher creates the index with "enpkg repo index ${dir}"`,
    details: { location: dir },
  });
}

async function fetchFromUrl(
  base: string,
  repo: RepositoryConfig,
  authorization: string | null,
  opts: FetchIndexOptions,
  what: string,
): Promise<FetchOutcome> {
  const common = { authorization, allowHttp: repo.insecure, what, ...(opts.signal ? { signal: opts.signal } : {}) };
  const cached = opts.cached;
  // Without a stored signature the cached copy cannot satisfy configured keys: fetch it all again.
  const reusable = cached !== null && (repo.keys.length === 0 || cached.hasSignature);
  const validators = (url: string, format: 'zst' | 'legacy') =>
    reusable && cached.url === url && cached.format === format ? { etag: cached.etag, lastModified: cached.lastModified } : {};

  const indexUrl = new URL(INDEX_FILE, base).toString();
  const res = await opts.http.get({ ...common, url: indexUrl, maxBytes: opts.maxSize, ...validators(indexUrl, 'zst') });
  const shown = describeLocation({ kind: 'http', url: indexUrl });
  if (res.status === 'not-modified') return { kind: 'not-modified', url: indexUrl, shown };
  if (res.status === 'ok') {
    const sigUrl = new URL(SIGNATURE_FILE, base).toString();
    const sig = await opts.http.get({ ...common, url: sigUrl, maxBytes: MAX_SIGNATURE_SIZE, what: `${what} (signature)` });
    if (sig.status === 'not-modified') throw new Error('unreachable: no validators were sent');
    const signature = sig.status === 'ok' ? sig.body : null;
    return {
      kind: 'fetched',
      format: 'zst',
      bytes: res.body,
      signature,
      url: indexUrl,
      shown,
      etag: res.etag,
      lastModified: res.lastModified,
    };
  }
  const legacyUrl = new URL(LEGACY_INDEX_FILE, base).toString();
  const legacyShown = describeLocation({ kind: 'http', url: legacyUrl });
  const legacy = await opts.http.get({ ...common, url: legacyUrl, maxBytes: opts.maxSize, ...validators(legacyUrl, 'legacy') });
  if (legacy.status === 'not-modified') return { kind: 'not-modified', url: legacyUrl, shown: legacyShown };
  if (legacy.status === 'ok') {
    return {
      kind: 'fetched',
      format: 'legacy',
      bytes: legacy.body,
      signature: null,
      url: legacyUrl,
      shown: legacyShown,
      etag: legacy.etag,
      lastModified: legacy.lastModified,
    };
  }
  throw new PkgError(RepoErrorCodes.REPO_NOT_FOUND, `${what}: ${shown} was not found (404), nor ${LEGACY_INDEX_FILE}`, {
    hint: 'check the repository URL; a publisher creates the index with "enpkg repo index DIR"',
    details: { location: describeLocation({ kind: 'http', url: base }) },
  });
}

/** The index from one location of the repository (no failover). */
export function fetchIndexAt(
  loc: RepoLocation,
  repo: RepositoryConfig,
  authorization: string | null,
  opts: FetchIndexOptions,
): Promise<FetchOutcome> | FetchOutcome {
  const what = `the index of ${repo.name}`;
  return loc.kind === 'dir' ? fetchFromDir(loc.path, opts, what) : fetchFromUrl(loc.url, repo, authorization, opts, what);
}

/** The index from the first location (the repository's, then its mirrors) that answers. */
export async function fetchIndex(repo: RepositoryConfig, opts: FetchIndexOptions): Promise<FetchOutcome> {
  let authorization: string | null | undefined;
  return fromFirstLocation({
    locations: [repo.location, ...repo.mirrors],
    attempt: async (loc) => {
      if (loc.kind === 'http') authorization ??= authorizationHeader(repo, opts.env);
      return fetchIndexAt(loc, repo, authorization ?? null, opts);
    },
    failsOver: isTransportError,
    subject: repo.name,
    warn: (warning) => opts.reporter?.report({ type: 'warning', warning }),
  });
}
