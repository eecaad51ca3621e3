/**
 * Error codes of configuration, repositories, transport and the index. The error class is the
 * project's one `PkgError`; these are its stable codes for this part of enpkg. Never renumber or
 * reuse a code; add new ones at the end of their group.
 */
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
  // publishing
  INDEX_EGGS_REFUSED: 'INDEX_EGGS_REFUSED',
  KEY_INVALID: 'KEY_INVALID',
  KEY_EXISTS: 'KEY_EXISTS',
  /** `repo index`: a DIR/*.egg that is not a regular file (a directory, a FIFO). */
  NOT_A_FILE: 'NOT_A_FILE',
  // queries
  SEARCH_PATTERN_INVALID: 'SEARCH_PATTERN_INVALID',
} as const;

export type RepoErrorCode = (typeof RepoErrorCodes)[keyof typeof RepoErrorCodes];

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
} as const;
