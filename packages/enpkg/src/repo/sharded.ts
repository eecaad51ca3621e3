/**
 * The client of sharded repositories (docs/sharded-index.md), and the one loader of a command's
 * repositories:
 *
 *   root (conditional GET; mirrors)  ->  signature (one retry: a root published between our two
 *   GETs)  ->  decode + validate  ->  rollback / expiry  ->  the shards of the names wanted, breadth
 *   first over every repository at once, fetched in parallel, each checked against the root's size
 *   and sha256 before it is parsed  ->  commit: shards, root, serial, in that order
 *
 * A repository without a root falls back to its monolithic index (repo/load.ts). Nothing is written
 * to the cache until every repository's root and every shard passed: a refused root or shard leaves
 * the cache as it was. Shards are cached by hash and never revalidated; their name is their content.
 */
import { join } from 'node:path';
import { repoCacheId, sha256Hex, type CachedIndex, type CachedIndexMeta, type IndexCache } from '../index-cache.js';
import { PkgError } from '../errors.js';
import type { HttpClient } from '../http/client.js';
import { parseRequirement } from '../requirement.js';
import {
  decodeRoot,
  decodeShard,
  DEFAULT_SHARD_CAPS,
  ROOT_FILE,
  ROOT_SIGNATURE_FILE,
  type RootDocument,
  type ShardCaps,
  shardPath,
} from '../repodata/shards.js';
import { decodeAcceptedRoot, encodeAcceptedRoot } from '../repodata/shard-table.js';
import { authorizationHeader } from './auth.js';
import { RepoErrorCodes, RepoWarningCodes } from './errors.js';
import { fromFirstLocation } from './failover.js';
import { fetchIndexAt, type FetchOutcome, isOutage, isTransportError, readCapped } from './fetch.js';
import { interrupted, loadRepository, type LoadRepositoriesOptions, type Prefetched, withIndexAccess } from './load.js';
import { describeLocation, locationKey } from './location.js';
import type { EnpkgConfig, IndexEntry, IndexOrigin, LoadedRepository, RepoLocation, RepositoryConfig, SerialStore } from './types.js';
import { checkFreshness, verifyIndexSignature } from './verify.js';
import type { Reporter } from '../report.js';

/** Which packages a command needs from the repositories. */
export type IndexWant =
  /** These names (lower-cased keys) and every name their entries' requirements reach. */
  | { readonly kind: 'closure'; readonly names: readonly string[] }
  /** The names the predicate accepts, and no others (search, info). */
  | { readonly kind: 'match'; readonly match: (key: string) => boolean };

export interface LoadIndexSetOptions extends LoadRepositoriesOptions {
  /** Default: every name (each repository's every shard, within `caps.maxShards`). */
  readonly want?: IndexWant;
  readonly caps?: Partial<ShardCaps>;
  /** Shards fetched at once (default 8: as many kept-alive connections, each TLS handshake and buffer paid once). */
  readonly concurrency?: number;
}

const MAX_SIGNATURE_SIZE = 4096;

interface RootCandidate {
  readonly bytes: Buffer;
  readonly signature: Buffer | null;
  readonly origin: IndexOrigin;
  /** The location that served it (shards come from there too), or null for the cache. */
  readonly location: RepoLocation | null;
  readonly shown: string;
  /** Set when the bytes are new: cached once accepted. */
  readonly fresh: { url: string; etag: string | null; lastModified: string | null } | null;
  /** The cache's sha256 of the bytes and of the signature, for a cached root. */
  readonly digests?: { readonly sha256: string; readonly signatureSha256: string | null };
}

/** A sharded repository once its root is accepted, before its shards are read. */
interface Sharded {
  readonly repo: RepositoryConfig;
  readonly root: RootDocument;
  readonly candidate: RootCandidate;
  readonly source: string;
  readonly signed: boolean;
  /** Every location of the repository, the one that served the root first. */
  readonly locations: readonly RepoLocation[];
  readonly entries: IndexEntry[];
  /** Shards fetched now, to be cached at commit. */
  readonly fresh: Map<string, Buffer>;
  /** The accepted-root cache file's key for this root and signature (see `acceptedRootKey`). */
  readonly acceptedKey: string;
  /** The root came from that file (nothing to write back). */
  readonly fromAccepted: boolean;
}

type Opened = { readonly kind: 'sharded'; readonly s: Sharded } | { readonly kind: 'monolithic'; readonly loaded: LoadedRepository };

type Ctx = LoadIndexSetOptions & {
  readonly http: HttpClient;
  readonly cache: IndexCache;
  readonly serials: SerialStore;
  readonly maxSize: number;
  readonly caps: ShardCaps;
};

function warn(ctx: Ctx, code: (typeof RepoWarningCodes)[keyof typeof RepoWarningCodes], message: string, subject: string): void {
  ctx.reporter?.report({ type: 'warning', warning: { code, message, subject } });
}

type RootAnswer =
  /** The location has no root: its monolithic index, fetched in the same attempt. */
  | { readonly kind: 'index'; readonly outcome: FetchOutcome }
  | { readonly kind: 'not-modified'; readonly shown: string; readonly location: RepoLocation }
  | (RootCandidate & { readonly kind: 'root' });

/**
 * The root from the first location that answers; at a location without one (404, no such file), its
 * monolithic index instead, in the same attempt: one pass over the mirrors either way.
 */
function fetchRoot(repo: RepositoryConfig, ctx: Ctx, cached: CachedIndexMeta | null): Promise<RootAnswer> {
  const what = `the index root of ${repo.name}`;
  let authorization: string | null | undefined;
  return fromFirstLocation<RootAnswer>({
    locations: [repo.location, ...repo.mirrors],
    failsOver: isTransportError,
    subject: repo.name,
    warn: (warning) => ctx.reporter?.report({ type: 'warning', warning }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    attempt: async (loc) => {
      const index = async (): Promise<RootAnswer> => ({
        kind: 'index',
        outcome: await fetchIndexAt(loc, repo, authorization ?? null, {
          http: ctx.http,
          cached: cached?.format === 'root' ? null : cached,
          maxSize: ctx.maxSize,
          ...(ctx.env ? { env: ctx.env } : {}),
          ...(ctx.reporter ? { reporter: ctx.reporter } : {}),
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        }),
      });
      if (loc.kind === 'dir') {
        const path = join(loc.path, ROOT_FILE);
        const bytes = readCapped(path, ctx.caps.maxRootSize, what);
        if (bytes === null) return index();
        const signature = readCapped(join(loc.path, ROOT_SIGNATURE_FILE), MAX_SIGNATURE_SIZE, what);
        return {
          kind: 'root',
          bytes,
          signature,
          origin: 'fetched',
          location: loc,
          shown: path,
          fresh: { url: path, etag: null, lastModified: null },
        };
      }
      authorization ??= authorizationHeader(repo, ctx.env);
      const common = { authorization, allowHttp: repo.insecure, what, ...(ctx.signal ? { signal: ctx.signal } : {}) };
      const url = new URL(ROOT_FILE, loc.url).toString();
      const reusable = cached !== null && cached.format === 'root' && cached.url === url && (repo.keys.length === 0 || cached.hasSignature);
      const validators = reusable ? { etag: cached.etag, lastModified: cached.lastModified } : {};
      const res = await ctx.http.get({ ...common, url, maxBytes: ctx.caps.maxRootSize, ...validators });
      const shown = describeLocation({ kind: 'http', url });
      if (res.status === 'not-found') return index();
      if (res.status === 'not-modified') return { kind: 'not-modified', shown, location: loc };
      const sig = await ctx.http.get({ ...common, url: new URL(ROOT_SIGNATURE_FILE, loc.url).toString(), maxBytes: MAX_SIGNATURE_SIZE });
      if (sig.status === 'not-modified') throw new Error('unreachable: no validators were sent');
      return {
        kind: 'root',
        bytes: res.body,
        signature: sig.status === 'ok' ? sig.body : null,
        origin: 'fetched',
        location: loc,
        shown,
        fresh: { url, etag: res.etag, lastModified: res.lastModified },
      };
    },
  });
}

function cachedRoot(ctx: Ctx, repo: RepositoryConfig): CachedIndex | null {
  const c = ctx.cache.read(repo);
  return c?.meta.format === 'root' ? c : null;
}

function fromCache(c: CachedIndex, origin: IndexOrigin, shown: string, location: RepoLocation | null = null): RootCandidate {
  const digests = { sha256: c.meta.sha256, signatureSha256: c.meta.signatureSha256 };
  return { bytes: c.bytes, signature: c.signature, origin, location, shown, fresh: null, digests };
}

/**
 * The root bytes to check; or what the monolithic path needs (the index a location without a root
 * gave, or the failure of every location when the cache holds an index, not a root); or null, offline
 * without a cached root.
 */
async function obtainRoot(
  repo: RepositoryConfig,
  ctx: Ctx,
  useValidators: boolean,
): Promise<RootCandidate | { readonly prefetched: Prefetched } | null> {
  const meta = ctx.cache.readMeta(repo);
  if (ctx.offline) {
    const c = meta?.format === 'root' ? cachedRoot(ctx, repo) : null;
    return c && fromCache(c, 'cache', `the cached index root of ${repo.name}`);
  }
  let answer: RootAnswer;
  try {
    answer = await fetchRoot(repo, ctx, useValidators ? meta : null);
  } catch (e) {
    if (meta !== null && meta.format !== 'root') return { prefetched: { error: e } };
    const c = meta?.format === 'root' && isOutage(e) ? cachedRoot(ctx, repo) : null;
    if (!c) throw e;
    warn(
      ctx,
      RepoWarningCodes.INDEX_FROM_CACHE,
      `${(e as Error).message}; using the cached index root (serial ${c.meta.serial}, fetched ${c.meta.fetchedAt})`,
      repo.name,
    );
    return fromCache(c, 'cache', `the cached index root of ${repo.name}`);
  }
  if (answer.kind === 'index') return { prefetched: { outcome: answer.outcome } };
  if (answer.kind === 'not-modified') {
    const c = cachedRoot(ctx, repo);
    if (c) {
      ctx.reporter?.report({ type: 'info', message: `${answer.shown}: not modified; using the cached copy` });
      return fromCache(c, 'not-modified', answer.shown, answer.location);
    }
    return obtainRoot(repo, ctx, false);
  }
  return answer;
}

function isSignatureFailure(e: unknown): boolean {
  return e instanceof PkgError && (e.code === RepoErrorCodes.INDEX_SIGNATURE_INVALID || e.code === RepoErrorCodes.INDEX_SIGNATURE_MISSING);
}

/** Open one repository: its root checked and accepted in memory, or its monolithic index loaded. */
async function open(repo: RepositoryConfig, ctx: Ctx): Promise<Opened> {
  const got = await obtainRoot(repo, ctx, true);
  if (ctx.signal?.aborted) throw interrupted();
  if (got === null || 'prefetched' in got) {
    return { kind: 'monolithic', loaded: await loadRepository(repo, ctx.cache, { ...ctx, prefetched: got?.prefetched }) };
  }
  let candidate: RootCandidate = got;
  let source = `the index root of ${repo.name} (${candidate.shown})`;
  // A cached root accepted before under the same key: its signature and lines need no second check.
  let key = acceptedRootKey(candidate, repo, ctx.caps);
  const bytes = candidate.fresh === null ? ctx.cache.readAcceptedRoot(repo) : null;
  const accepted = bytes === null ? null : decodeAcceptedRoot(bytes, key);
  let signed: boolean;
  let root: RootDocument;
  if (accepted !== null) {
    signed = accepted.signed;
    root = { ...accepted.header, shards: accepted.shards };
  } else {
    try {
      signed = verifyIndexSignature(candidate.bytes, candidate.signature, repo, source);
    } catch (e) {
      // A root and its signature are two files: one published between our two requests reads as a
      // mismatch. Fetch both once more; a second failure is final.
      if (!isSignatureFailure(e) || candidate.fresh === null) throw e;
      ctx.reporter?.report({ type: 'info', message: `${(e as Error).message}; fetching the root and its signature once more` });
      const again = await obtainRoot(repo, ctx, false);
      if (again === null || 'prefetched' in again) throw e;
      candidate = again;
      source = `the index root of ${repo.name} (${candidate.shown})`;
      signed = verifyIndexSignature(candidate.bytes, candidate.signature, repo, source);
      key = acceptedRootKey(candidate, repo, ctx.caps);
    }
    root = decodeRoot(candidate.bytes, { source, caps: ctx.caps });
  }
  checkFreshness(
    { format: 'sharded', serial: root.serial, expires: root.expires },
    {
      acceptedSerial: ctx.serials.accepted(repoCacheId(repo)),
      now: (ctx.now ?? (() => new Date()))(),
      source,
      repo,
      serialFile: ctx.cache.serialFile(repo),
    },
  );
  const all = [repo.location, ...repo.mirrors];
  const first = candidate.location;
  const locations = first ? [first, ...all.filter((l) => locationKey(l) !== locationKey(first))] : all;
  return {
    kind: 'sharded',
    s: {
      repo,
      root,
      candidate,
      source,
      signed,
      locations,
      entries: [],
      fresh: new Map(),
      acceptedKey: key,
      fromAccepted: accepted !== null,
    },
  };
}

/**
 * What an accepted root was checked against: its bytes and signature (by sha256), the trusted keys
 * and the caps. A cached root under the same key is the same verdict; any change checks it again.
 */
function acceptedRootKey(c: RootCandidate, repo: RepositoryConfig, caps: ShardCaps): string {
  const digests = c.digests ?? { sha256: sha256Hex(c.bytes), signatureSha256: c.signature === null ? null : sha256Hex(c.signature) };
  const { maxRootSize, maxShardSize, maxShards } = caps;
  const keys = [...repo.keys].sort();
  return sha256Hex(Buffer.from(JSON.stringify({ ...digests, keys, caps: [maxRootSize, maxShardSize, maxShards] })));
}

/** One shard's bytes: the cache, else the location that served the root (then the mirrors). */
async function shardBytes(s: Sharded, name: string, ctx: Ctx): Promise<Buffer> {
  const ref = s.root.shards.get(name)!;
  const cached = ctx.cache.readShard(ref.sha256);
  if (cached !== null && cached.length === ref.size) return cached;
  const rel = shardPath(ref.sha256);
  if (ctx.offline || s.candidate.location === null) {
    const why = ctx.offline ? '--offline forbids fetching it' : 'the repository cannot be reached';
    throw new PkgError(
      RepoErrorCodes.REPO_OFFLINE_NO_CACHE,
      `the shard of ${name} (${rel}) of ${s.repo.name} is not in the cache, and ${why}`,
      {
        hint: 'run the command once while the repository can be reached, to fill the cache',
        details: { repository: s.repo.name, name, shard: rel },
      },
    );
  }
  const what = `the shard of ${name} of ${s.repo.name}`;
  let authorization: string | null | undefined;
  const bytes = await fromFirstLocation<Buffer>({
    locations: s.locations,
    failsOver: (e): e is PkgError => isTransportError(e) && e.code !== RepoErrorCodes.REPO_NOT_FOUND,
    subject: s.repo.name,
    warn: (warning) => ctx.reporter?.report({ type: 'warning', warning }),
    ...(ctx.signal ? { signal: ctx.signal } : {}),
    attempt: async (loc) => {
      let got: Buffer | null;
      let shown: string;
      if (loc.kind === 'dir') {
        shown = join(loc.path, rel);
        got = readCapped(shown, ref.size, what);
      } else {
        authorization ??= authorizationHeader(s.repo, ctx.env);
        const url = new URL(rel, loc.url).toString();
        shown = describeLocation({ kind: 'http', url });
        const res = await ctx.http.get({
          url,
          authorization,
          allowHttp: s.repo.insecure,
          what,
          maxBytes: ref.size,
          ...(ctx.signal ? { signal: ctx.signal } : {}),
        });
        if (res.status === 'not-modified') throw new Error('unreachable: no validators were sent');
        got = res.status === 'ok' ? res.body : null;
      }
      if (got === null) {
        throw new PkgError(
          RepoErrorCodes.INDEX_SHARD_MISSING,
          `${s.source} (serial ${s.root.serial}) names the shard ${rel} for ${name}, but ${shown} does not exist`,
          {
            hint:
              'the repository was published out of order (the root before its shards) or pruned too early; ' +
              'the publisher should run "enpkg repo index" again',
            details: { source: s.source, name, shard: rel, location: shown },
          },
        );
      }
      return got;
    },
  });
  const sha256 = sha256Hex(bytes);
  if (bytes.length !== ref.size || sha256 !== ref.sha256) {
    throw new PkgError(
      RepoErrorCodes.INDEX_SHARD_MISMATCH,
      `the shard of ${name} (${rel}) of ${s.repo.name} is ${bytes.length} bytes with sha256 ${sha256}, ` +
        `but ${s.source} gives ${ref.size} bytes, sha256 ${ref.sha256}: it was altered or damaged on the way`,
      {
        hint: 'nothing was cached; if it happens again, tell the publisher (a proxy or mirror may serve a stale or tampered copy)',
        details: { source: s.source, name, shard: rel },
      },
    );
  }
  s.fresh.set(ref.sha256, bytes);
  return bytes;
}

/** Run `fn` over `items`, at most `n` at a time; the first failure rejects (the others are awaited). */
async function eachLimited<T>(items: readonly T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | null = null;
  const worker = async (): Promise<void> => {
    while (failure === null && next < items.length) {
      const item = items[next++]!;
      try {
        await fn(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, worker));
  if (failure !== null) throw (failure as { e: unknown }).e;
}

/** The name a requirement string is about (cached: the same strings recur across versions). */
function requirementKeyOf(cache: Map<string, string>, r: string): string {
  let key = cache.get(r);
  if (key === undefined) {
    key = parseRequirement(r).key;
    cache.set(r, key);
  }
  return key;
}

/** Read the wanted shards of every sharded repository, breadth first over the names reached. */
async function readShards(sharded: readonly Sharded[], monolithic: readonly LoadedRepository[], ctx: Ctx): Promise<void> {
  const want = ctx.want ?? { kind: 'match', match: () => true };
  const seen = new Set<string>();
  let frontier: string[];
  if (want.kind === 'match') {
    frontier = [...new Set(sharded.flatMap((s) => [...s.root.shards.keys()].filter((k) => want.match(k))))];
  } else {
    frontier = [...new Set(want.names.map((n) => n.toLowerCase()))];
  }
  const byKey = new Map<string, IndexEntry[]>();
  if (want.kind === 'closure') {
    for (const r of monolithic) {
      for (const e of r.index.entries) {
        const list = byKey.get(e.key);
        if (list) list.push(e);
        else byKey.set(e.key, [e]);
      }
    }
  }
  const keys = new Map<string, string>();
  let count = 0;
  while (frontier.length > 0) {
    for (const n of frontier) seen.add(n);
    const jobs = sharded.flatMap((s) => frontier.filter((n) => s.root.shards.has(n)).map((name) => ({ s, name })));
    count += jobs.length;
    if (count > ctx.caps.maxShards) {
      throw new PkgError(
        RepoErrorCodes.INDEX_SHARD_LIMIT,
        `this command reaches more than ${ctx.caps.maxShards} shards of the repositories (${count} so far)`,
        {
          hint: 'name fewer packages or a narrower search pattern; nothing was cached',
          details: { limit: ctx.caps.maxShards },
        },
      );
    }
    const found = new Map<Sharded, Map<string, IndexEntry[]>>();
    await eachLimited(jobs, ctx.concurrency ?? 8, async ({ s, name }) => {
      const bytes = await shardBytes(s, name, ctx);
      if (ctx.signal?.aborted) throw interrupted();
      const entries = decodeShard(bytes, {
        name,
        source: `the shard of ${name} of ${s.repo.name}`,
        repository: s.repo.name,
        caps: ctx.caps,
      });
      let m = found.get(s);
      if (!m) found.set(s, (m = new Map()));
      m.set(name, entries);
    });
    if (ctx.signal?.aborted) throw interrupted();
    const next = new Set<string>();
    const reach = (entries: readonly IndexEntry[]): void => {
      if (want.kind !== 'closure') return;
      for (const e of entries) {
        for (const r of e.depends) {
          const k = requirementKeyOf(keys, r);
          if (!seen.has(k)) next.add(k);
        }
      }
    };
    // In the frontier's order, so that entries come in the same order however the fetches finished.
    for (const s of sharded) {
      const m = found.get(s);
      for (const name of frontier) {
        const entries = m?.get(name);
        if (entries) {
          s.entries.push(...entries);
          reach(entries);
        }
      }
    }
    for (const name of frontier) reach(byKey.get(name) ?? []);
    frontier = [...next];
  }
}

/** Cache what was fetched and accept the serial: shards first, then the root that names them. */
function commit(s: Sharded, ctx: Ctx): LoadedRepository {
  const { repo, root, candidate } = s;
  ctx.cache.writeShards(s.fresh);
  const fresh = candidate.fresh;
  if (fresh !== null) {
    const meta = ctx.cache.readMeta(repo);
    const sha256 = sha256Hex(candidate.bytes);
    const signatureSha256 = candidate.signature === null ? null : sha256Hex(candidate.signature);
    if (
      meta === null ||
      meta.format !== 'root' ||
      meta.sha256 !== sha256 ||
      meta.etag !== fresh.etag ||
      meta.url !== fresh.url ||
      meta.signatureSha256 !== signatureSha256
    ) {
      ctx.cache.write(repo, {
        meta: {
          version: 1,
          location: locationKey(repo.location),
          format: 'root',
          url: fresh.url,
          etag: fresh.etag,
          lastModified: fresh.lastModified,
          sha256,
          size: candidate.bytes.length,
          hasSignature: candidate.signature !== null,
          signatureSha256,
          serial: root.serial,
          repository: root.repository,
          fetchedAt: new Date().toISOString(),
        },
        bytes: candidate.bytes,
        signature: candidate.signature,
      });
    }
  }
  if (!s.fromAccepted) {
    const { repository, serial, generated, expires } = root;
    ctx.cache.writeAcceptedRoot(
      repo,
      encodeAcceptedRoot({ header: { repository, serial, generated, expires }, shards: root.shards, signed: s.signed }, s.acceptedKey),
    );
  }
  const repoId = repoCacheId(repo);
  const accepted = ctx.serials.accepted(repoId);
  if (accepted === null || root.serial > accepted) ctx.serials.accept(repoId, root.serial, root.repository);
  ctx.reporter?.report({
    type: 'info',
    message:
      `${s.source}: ${root.shards.size} names, ${s.fresh.size} shard${s.fresh.size === 1 ? '' : 's'} fetched, ` +
      `${s.entries.length} packages read, serial ${root.serial}${s.signed ? ', signature verified' : ''}` +
      `${s.fromAccepted ? ' when first accepted (the accepted root, from the cache)' : ''} (${candidate.origin})`,
  });
  return {
    config: repo,
    index: {
      format: 'sharded',
      repository: root.repository,
      serial: root.serial,
      generated: root.generated,
      expires: root.expires,
      entries: s.entries,
    },
    origin: candidate.origin,
    source: candidate.shown,
    signed: s.signed,
  };
}

/**
 * Every configured repository (in configuration order) with the packages `want` reaches: a sharded
 * repository's wanted shards, a monolithic repository's whole index.
 */
export function loadIndexSet(config: EnpkgConfig, opts: LoadIndexSetOptions = {}): Promise<LoadedRepository[]> {
  return withIndexAccess(config, opts, async (cache, http) => {
    const ctx: Ctx = {
      ...opts,
      http,
      cache,
      serials: opts.serials ?? cache.serials,
      maxSize: config.network.maxIndexSize,
      caps: { ...DEFAULT_SHARD_CAPS, ...opts.caps },
    };
    const opened = reachable(
      config.repositories,
      await Promise.allSettled(config.repositories.map((repo) => open(repo, ctx))),
      opts.reporter,
    );
    const sharded = opened.flatMap((o) => (o.kind === 'sharded' ? [o.s] : []));
    const monolithic = opened.flatMap((o) => (o.kind === 'monolithic' ? [o.loaded] : []));
    if (sharded.length > 0) await readShards(sharded, monolithic, ctx);
    if (ctx.signal?.aborted) throw interrupted();
    return opened.map((o) => (o.kind === 'sharded' ? commit(o.s, ctx) : o.loaded));
  });
}

/**
 * The repositories that opened. One that cannot be reached (connection refused, timeout, 5xx; no
 * cached copy either) is left out with a REPO_SKIPPED warning naming it, as long as another one
 * opened; any other failure, or every repository unreachable, is the error.
 */
function reachable<T>(repos: readonly RepositoryConfig[], settled: PromiseSettledResult<T>[], reporter?: Reporter): T[] {
  const failed = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
  const fatal = failed.find((e) => !isOutage(e));
  if (fatal !== undefined || (failed.length > 0 && failed.length === settled.length)) throw fatal ?? failed[0];
  return settled.flatMap((s, i) => {
    if (s.status === 'fulfilled') return [s.value];
    const name = repos[i]!.name;
    reporter?.report({
      type: 'warning',
      warning: {
        code: RepoWarningCodes.REPO_SKIPPED,
        message: `repository ${name} was left out: ${(s.reason as Error).message}`,
        subject: name,
      },
    });
    return [];
  });
}
