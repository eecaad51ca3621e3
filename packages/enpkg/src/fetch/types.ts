/**
 * Contract types of the fetch stage: what to fetch, what comes back, and the one progress stream.
 * Types only: this module imports no implementation.
 */
import type { Reporter } from '../report.js';
import type { HttpClient } from '../http/client.js';
import type { IndexEntry, NetworkSettings, RepositoryConfig } from '../repo/types.js';

/** One egg to fetch: its index entry and the repository (with its mirrors and auth) it comes from. */
export interface FetchRequest {
  readonly entry: IndexEntry;
  readonly repository: RepositoryConfig;
}

/** A verified egg in the cache, ready for egginst. */
export interface FetchedEgg {
  readonly key: string;
  readonly eggName: string;
  /** `<cacheDir>/eggs/<sha256[0:2]>/<sha256>.egg` (legacy md5-only entries: `eggs/md5/<md5[0:2]>/<md5>.egg`). */
  readonly path: string;
  /** The content's sha256 (computed, for a legacy entry that had none). */
  readonly sha256: string;
  readonly size: number;
  /** True when the cache already had it and nothing was downloaded or copied. */
  readonly cached: boolean;
}

export type EggFetchState =
  /** Found in the cache (nothing to do). */
  | 'cached'
  /** A cached copy is being hashed again (it was changed, moved or never verified by this code). */
  | 'verifying'
  /** Bytes are coming from a repository (a download, or a copy from a local directory). */
  | 'fetching'
  /** An attempt failed and is retried: the egg's `done` went back to 0. */
  | 'restarted'
  /** Verified and in the cache. */
  | 'done'
  | 'failed';

/**
 * One event of the aggregated stream: the egg it is about and the totals, so that a renderer can
 * draw one display (a line per active egg and an overall bar) from the events alone.
 */
export interface FetchProgress {
  readonly egg: {
    readonly key: string;
    readonly eggName: string;
    /** The repository's name. */
    readonly repository: string;
    readonly state: EggFetchState;
    readonly done: number;
    readonly total: number;
  };
  readonly overall: {
    /** Bytes fetched or verified so far, of `bytesTotal` (eggs found in the cache count in neither). */
    readonly bytesDone: number;
    readonly bytesTotal: number;
    /** Eggs finished (cached ones included), of `eggsTotal` distinct eggs. */
    readonly eggsDone: number;
    readonly eggsTotal: number;
    readonly cached: number;
    /** Eggs being fetched or verified right now (never more than `parallel`). */
    readonly active: number;
  };
}

export interface FetchOptions {
  readonly cacheDir: string;
  /** Eggs fetched at once (config `parallel_downloads`, default 4). */
  readonly parallel: number;
  readonly network: NetworkSettings;
  /** Warnings, detail and `download` events. */
  readonly reporter?: Reporter;
  /** Aborting it stops every fetch (partial files removed) with an INTERRUPTED error. */
  readonly signal?: AbortSignal;
  /** Nothing is downloaded: eggs must be in the cache or in a local-directory repository. */
  readonly offline?: boolean;
  /** fsync each new cache file before it is renamed into place (default true). */
  readonly fsync?: boolean;
  /** Default: a client built from `network`, closed at the end. */
  readonly http?: HttpClient;
  /** For credentials (`auth` from the environment) and proxies. Default: process.env. */
  readonly env?: NodeJS.ProcessEnv;
}
