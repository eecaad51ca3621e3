/**
 * enpkg's codes: every error and warning code it adds to egginst's (which are in egginst's
 * codes.ts), grouped by stage. They are stable: a code is never renamed, reused or removed
 * (test/codes.test.ts holds the list); new ones go at the end of their group. They are registered
 * with egginst's closed sets below, so `PkgError` and `Warning` accept them and nothing else.
 */

/** Versions, requirements, the resolver, scenarios, installed state, operations, enpkg itself. */
export const EnpkgErrorCodes = {
  // versions and requirements
  VERSION_INVALID: 'VERSION_INVALID',
  REQUIREMENT_INVALID: 'REQUIREMENT_INVALID',
  // resolving
  PACKAGE_NOT_FOUND: 'PACKAGE_NOT_FOUND',
  UNSATISFIABLE: 'UNSATISFIABLE',
  REQUEST_INVALID: 'REQUEST_INVALID',
  // scenarios (enpkg solve)
  SCENARIO_INVALID: 'SCENARIO_INVALID',
  // installed state: <prefix>/.enpkg/state.db, Enstaller's enpkg.hist
  STATE_UNREADABLE: 'STATE_UNREADABLE',
  STATE_TOO_NEW: 'STATE_TOO_NEW',
  HISTORY_INVALID: 'HISTORY_INVALID',
  /** A row or the file itself does not read back as what enpkg wrote (damaged, or edited by hand). */
  STATE_CORRUPT: 'STATE_CORRUPT',
  /** The database (or its directory) cannot be written: permissions, a read-only file system. */
  STATE_READONLY: 'STATE_READONLY',
  /** Another program holds the database's write lock. */
  STATE_BUSY: 'STATE_BUSY',
  // enpkg itself: its eggs, the pointer, self-update
  SELF_EGG_INVALID: 'SELF_EGG_INVALID',
  SELF_EGG_INCOMPATIBLE: 'SELF_EGG_INCOMPATIBLE',
  SELF_POINTER_INVALID: 'SELF_POINTER_INVALID',
  SELF_VERSION_NOT_FOUND: 'SELF_VERSION_NOT_FOUND',
  SELF_SMOKE_FAILED: 'SELF_SMOKE_FAILED',
  // the prefix and history
  NO_PREFIX: 'NO_PREFIX',
  NO_SUCH_REVISION: 'NO_SUCH_REVISION',
  // operations
  EGG_UNAVAILABLE: 'EGG_UNAVAILABLE',
  SELF_NOT_A_PACKAGE: 'SELF_NOT_A_PACKAGE',
  SELF_NOT_BOOTSTRAPPED: 'SELF_NOT_BOOTSTRAPPED',
  SELF_ALREADY_BOOTSTRAPPED: 'SELF_ALREADY_BOOTSTRAPPED',
  SELF_NO_PREVIOUS: 'SELF_NO_PREVIOUS',
  SELF_LAUNCHER_CONFLICT: 'SELF_LAUNCHER_CONFLICT',
  /** A removal would also take packages that were not named, and nobody could be asked (no terminal, no -y). */
  REMOVE_NOT_CONFIRMED: 'REMOVE_NOT_CONFIRMED',
  /** Removing the named packages alone (--no-deps) would leave packages that need them broken, without --force. */
  REMOVE_BREAKS: 'REMOVE_BREAKS',
  // a bug of enpkg, not of its input
  INTERNAL: 'INTERNAL',
} as const;

/** Warnings of operations. */
export const EnpkgWarningCodes = {
  SELF_UPDATE_FAILED: 'SELF_UPDATE_FAILED',
  /** enpkg.hist (Enstaller's history file, kept beside the state database) could not be rewritten. */
  HISTORY_FILE_NOT_WRITTEN: 'HISTORY_FILE_NOT_WRITTEN',
} as const;

/** Configuration, repository locations and transport, the index and its trust, publishing, queries. */
export const RepoErrorCodes = {
  // configuration
  CONFIG_NOT_FOUND: 'CONFIG_NOT_FOUND',
  CONFIG_INVALID: 'CONFIG_INVALID',
  PREFIX_MISSING: 'PREFIX_MISSING',
  // repository locations and transport
  REPO_URL_INVALID: 'REPO_URL_INVALID',
  REPO_INSECURE: 'REPO_INSECURE',
  REPO_NOT_FOUND: 'REPO_NOT_FOUND',
  REPO_AUTH_MISSING: 'REPO_AUTH_MISSING',
  REPO_AUTH_FAILED: 'REPO_AUTH_FAILED',
  REPO_HTTP_ERROR: 'REPO_HTTP_ERROR',
  REPO_UNREACHABLE: 'REPO_UNREACHABLE',
  REPO_TLS_FAILED: 'REPO_TLS_FAILED',
  REPO_TIMEOUT: 'REPO_TIMEOUT',
  REPO_REDIRECT_REFUSED: 'REPO_REDIRECT_REFUSED',
  REPO_TOO_LARGE: 'REPO_TOO_LARGE',
  REPO_OFFLINE_NO_CACHE: 'REPO_OFFLINE_NO_CACHE',
  // the index and its trust
  INDEX_CORRUPT: 'INDEX_CORRUPT',
  INDEX_TOO_LARGE: 'INDEX_TOO_LARGE',
  INDEX_INVALID: 'INDEX_INVALID',
  INDEX_ENTRY_INVALID: 'INDEX_ENTRY_INVALID',
  INDEX_SCHEMA_UNSUPPORTED: 'INDEX_SCHEMA_UNSUPPORTED',
  INDEX_SIGNATURE_MISSING: 'INDEX_SIGNATURE_MISSING',
  INDEX_SIGNATURE_INVALID: 'INDEX_SIGNATURE_INVALID',
  INDEX_ROLLBACK: 'INDEX_ROLLBACK',
  INDEX_EXPIRED: 'INDEX_EXPIRED',
  INDEX_LEGACY_REFUSED: 'INDEX_LEGACY_REFUSED',
  /** A shard's bytes do not have the size or sha256 its root gives. */
  INDEX_SHARD_MISMATCH: 'INDEX_SHARD_MISMATCH',
  /** The root names a shard the server (or directory) does not have. */
  INDEX_SHARD_MISSING: 'INDEX_SHARD_MISSING',
  /** More shards than one command may fetch (network.max_shards), or a root over its caps. */
  INDEX_SHARD_LIMIT: 'INDEX_SHARD_LIMIT',
  // publishing
  INDEX_EGGS_REFUSED: 'INDEX_EGGS_REFUSED',
  KEY_INVALID: 'KEY_INVALID',
  KEY_EXISTS: 'KEY_EXISTS',
  /** `repo index`: a DIR/*.egg that is not a regular file (a directory, a FIFO). */
  NOT_A_FILE: 'NOT_A_FILE',
  // queries
  SEARCH_PATTERN_INVALID: 'SEARCH_PATTERN_INVALID',
} as const;

/** Warning codes (reporter.warn) of loading and publishing indexes. Never renumber or reuse one. */
export const RepoWarningCodes = {
  /** A location failed; the next mirror is tried (indexes and eggs alike). */
  MIRROR_FAILOVER: 'MIRROR_FAILOVER',
  /** Every location is down: the cached index is used. */
  INDEX_FROM_CACHE: 'INDEX_FROM_CACHE',
  /** Enstaller's legacy index.json: unsigned, md5 only. */
  INDEX_LEGACY_MD5: 'INDEX_LEGACY_MD5',
  /** `repo index` without --sign removed the previous index's signature. */
  SIGNATURE_REMOVED: 'SIGNATURE_REMOVED',
  /** `repo index` without --legacy-json left an index.json that is now out of date. */
  LEGACY_INDEX_STALE: 'LEGACY_INDEX_STALE',
  /** A key of an Enstaller configuration (.enstaller4rc, its YAML) that has no meaning here: ignored. */
  CONFIG_KEY_IGNORED: 'CONFIG_KEY_IGNORED',
  /** TLS certificates are not verified (-k/--insecure, verify_ssl: false). */
  TLS_VERIFY_OFF: 'TLS_VERIFY_OFF',
  /** A repository could not be reached; the others were used. */
  REPO_SKIPPED: 'REPO_SKIPPED',
} as const;

/** The fetch stage: downloads and the egg cache. An interrupted fetch is egginst's `INTERRUPTED`. */
export const FetchErrorCodes = {
  /** The bytes do not have the index's size. */
  EGG_SIZE_MISMATCH: 'EGG_SIZE_MISMATCH',
  /** The bytes do not have the index's sha256 (or, for a legacy entry, md5). */
  EGG_HASH_MISMATCH: 'EGG_HASH_MISMATCH',
  /** No location of the repository (nor any mirror) has the egg. */
  EGG_NOT_FOUND: 'EGG_NOT_FOUND',
  /** `--offline`, and the egg is neither cached nor in a local-directory repository. */
  EGG_NOT_CACHED: 'EGG_NOT_CACHED',
  /** The index entry cannot be fetched safely (a file name or hash that is not what it must be). */
  EGG_ENTRY_INVALID: 'EGG_ENTRY_INVALID',
  /** A local repository's egg cannot be read. */
  EGG_READ_FAILED: 'EGG_READ_FAILED',
  /** The cache directory cannot be written (permissions, a full disk). */
  CACHE_WRITE_FAILED: 'CACHE_WRITE_FAILED',
  /** A file in the cache directory exists but cannot be read (permissions). */
  CACHE_READ_FAILED: 'CACHE_READ_FAILED',
} as const;

/** Warnings of the fetch stage. */
export const FetchWarningCodes = {
  /** The entry has no sha256 (Enstaller's legacy index): verified by md5 only. */
  EGG_MD5_ONLY: 'EGG_MD5_ONLY',
  /** A cached copy failed its re-verification: removed and fetched again. */
  CACHE_EGG_CORRUPT: 'CACHE_EGG_CORRUPT',
  /** A location failed; the next mirror is tried (the same code as RepoWarningCodes.MIRROR_FAILOVER). */
  MIRROR_FAILOVER: 'MIRROR_FAILOVER',
} as const;

export type EnpkgErrorCode = (typeof EnpkgErrorCodes)[keyof typeof EnpkgErrorCodes];
export type RepoErrorCode = (typeof RepoErrorCodes)[keyof typeof RepoErrorCodes];
export type FetchErrorCode = (typeof FetchErrorCodes)[keyof typeof FetchErrorCodes];
export type EnpkgWarningCode =
  | (typeof EnpkgWarningCodes)[keyof typeof EnpkgWarningCodes]
  | (typeof RepoWarningCodes)[keyof typeof RepoWarningCodes]
  | (typeof FetchWarningCodes)[keyof typeof FetchWarningCodes];

declare module 'egginst/core' {
  interface ErrorCodeExtensions extends Record<EnpkgErrorCode | RepoErrorCode | FetchErrorCode, true> {}
  interface WarningCodeExtensions extends Record<EnpkgWarningCode, true> {}
}
