/**
 * Contract types of configuration, repositories and the index. Types only: this module imports no
 * implementation.
 */
import type { LinkMode } from 'egginst';
import type { PackageInfo } from '../types.js';

/**
 * Where a secret comes from: an environment variable or a file (its content, trimmed); never our own
 * configuration file. `value` is a secret written in an Enstaller configuration (`EPD_auth`,
 * `api_token`), which is read as it is; `from` names that file (it is shown instead of the secret).
 */
export type SecretSource = { readonly env: string } | { readonly file: string } | { readonly value: string; readonly from: string };

export type AuthConfig =
  /** `Authorization: Bearer <token>`. */
  | { readonly kind: 'token'; readonly token: SecretSource }
  /** HTTP basic authentication; the user name may be written in the config, the password may not. */
  | { readonly kind: 'basic'; readonly user: string | SecretSource; readonly password: SecretSource }
  /** HTTP basic authentication from one secret holding `user:password` (a credentials file, Enstaller's EPD_auth). */
  | { readonly kind: 'credentials'; readonly credentials: SecretSource };

/** A repository's location: a local directory or an http(s) base URL (ending in `/`). */
export type RepoLocation = { readonly kind: 'dir'; readonly path: string } | { readonly kind: 'http'; readonly url: string };

export interface RepositoryConfig {
  /** Display name: the configured `name`, else the location. */
  readonly name: string;
  readonly location: RepoLocation;
  /** Tried in order after `location` when it fails (same index, same trust). */
  readonly mirrors: readonly RepoLocation[];
  /** Base64 raw Ed25519 public keys; when any is listed, a valid signature is required. */
  readonly keys: readonly string[];
  /** Allow plain `http://` for this repository. */
  readonly insecure: boolean;
  readonly auth: AuthConfig | null;
  /** Where it was configured: `<file>: repositories[2]` or `--repo`. */
  readonly origin: string;
}

export interface NetworkSettings {
  readonly connectTimeoutMs: number;
  /** Longest wait for the next bytes (headers or body) of a response. */
  readonly idleTimeoutMs: number;
  /** Longest time for one resource, retries and redirects included. */
  readonly totalTimeoutMs: number;
  /** Extra attempts after a connection error, a timeout or a 5xx. */
  readonly retries: number;
  /** First back-off delay; doubled after each attempt. */
  readonly retryDelayMs: number;
  /** A PEM file of CA certificates trusted besides the system's. */
  readonly caFile: string | null;
  /** Largest index accepted, compressed or not (bytes). */
  readonly maxIndexSize: number;
  /** The proxy for http and https (`--proxy`, `network.proxy`); null: HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
  readonly proxy: ProxyConfig | null;
  /** False with -k/--insecure or `verify_ssl: false`: certificates are not checked (a warning on every run). */
  readonly verifyTls: boolean;
}

export interface ProxyConfig {
  /** `http://host:port/` or `https://...`, without credentials. */
  readonly url: string;
  /** Where it was given, for messages: `--proxy`, `<file>: network.proxy`. */
  readonly origin: string;
  readonly user: string | SecretSource | null;
  readonly password: SecretSource | null;
}

export interface EnpkgConfig {
  /** The file read, or null when none was found. */
  readonly file: string | null;
  readonly prefix: string | null;
  /** Where the prefix came from: `--prefix`, `ENPKG_PREFIX`, the file, or null. */
  readonly prefixSource: string | null;
  /** The Python version (`X.Y`) whose packages are offered; null: any. */
  readonly python: string | null;
  /** The interpreter egginst uses for scripts and shebangs (`python_executable`, `--python`); null: egginst's choice. */
  readonly pythonExecutable: string | null;
  readonly cacheDir: string;
  readonly parallelDownloads: number;
  readonly scriptTimeoutSeconds: number;
  /** Install through the package store (docs/package-store.md); false: every install inflates its egg. */
  readonly store: boolean;
  /** How files come from the store: `link_mode`, else $EGGINST_LINK_MODE, else auto. */
  readonly linkMode: LinkMode;
  readonly autoupdate: boolean;
  readonly network: NetworkSettings;
  readonly repositories: readonly RepositoryConfig[];
  /** The file's format: ours (YAML), Enstaller's `.enstaller4rc` (Python literals) or Enstaller's YAML; null: no file. */
  readonly format: 'enpkg' | 'enstaller4rc' | 'enstaller-yaml' | null;
  /** What reading it found worth saying (keys without meaning here), each once. */
  readonly warnings: readonly ConfigWarning[];
}

export interface ConfigWarning {
  readonly key: string;
  readonly message: string;
}

/** One package of an index: what the resolver needs (PackageInfo) plus what fetching needs. */
export interface IndexEntry extends PackageInfo {
  /** `<name>-<version>-<build>.egg`, relative to the repository. */
  readonly eggName: string;
  readonly size: number;
  /** Lower-case hex; null only in Enstaller's legacy index (md5 only). */
  readonly sha256: string | null;
  readonly md5: string | null;
  /** Seconds since the epoch (the file's mtime when it was indexed). */
  readonly mtime: number | null;
  readonly summary: string | null;
  /** The name of the repository it came from. */
  readonly repository: string;
}

/** A parsed, validated index. */
export interface RepoIndex {
  /**
   * `zst`: ours (index.json.zst); `legacy`: Enstaller's index.json; `sharded`: a signed root and the
   * shards of the names a command reached (`entries` then holds only those).
   */
  readonly format: 'zst' | 'legacy' | 'sharded';
  /** The index's own `repository` field. */
  readonly repository: string | null;
  /** 0 for a legacy index. */
  readonly serial: number;
  readonly generated: string | null;
  readonly expires: string | null;
  readonly entries: IndexEntry[];
}

/** How the index bytes of a loaded repository were obtained. */
export type IndexOrigin =
  /** Downloaded (or read from a local repository) just now. */
  | 'fetched'
  /** The server said 304 Not Modified: the cached copy was reused. */
  | 'not-modified'
  /** `--offline`, or the network failed and the cached copy was used (with a warning). */
  | 'cache';

export interface LoadedRepository {
  readonly config: RepositoryConfig;
  readonly index: RepoIndex;
  readonly origin: IndexOrigin;
  /** The location the index came from (credentials and query redacted), or the cache. */
  readonly source: string;
  /** True when a configured key verified the signature. */
  readonly signed: boolean;
}

/**
 * Remembers the highest index serial accepted from each repository (rollback protection).
 * `accepted` must return what the last `accept` stored for that id, or null if none.
 */
export interface SerialStore {
  accepted(repoId: string): number | null;
  accept(repoId: string, serial: number, repository: string | null): void;
}
