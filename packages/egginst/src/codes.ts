/**
 * egginst's codes: every error (`PkgError.code`) and warning (`Warning.code`) it can give, grouped by
 * stage. They are stable: a code is never renamed, reused or removed (test/codes.test.ts holds the
 * list); new ones go at the end of their group.
 *
 * The sets are closed: `ErrorCode` and `WarningCode` are these codes plus those another package
 * registers by declaration merging (enpkg does, in its own codes.ts):
 *
 *   declare module 'egginst/core' { interface ErrorCodeExtensions extends Record<MyCode, true> {} }
 */

export const ErrorCodes = {
  // usage and input files
  USAGE: 'USAGE',
  FILE_NOT_FOUND: 'FILE_NOT_FOUND',
  EGG_NAME_INVALID: 'EGG_NAME_INVALID',
  PREFIX_INVALID: 'PREFIX_INVALID',
  // archive structure (all detected before the prefix is touched, except CRC/size during staging)
  ARCHIVE_CORRUPT: 'ARCHIVE_CORRUPT',
  ARCHIVE_EMPTY: 'ARCHIVE_EMPTY',
  ARCHIVE_UNSAFE_PATH: 'ARCHIVE_UNSAFE_PATH',
  ARCHIVE_DUPLICATE_NAME: 'ARCHIVE_DUPLICATE_NAME',
  ARCHIVE_UNSUPPORTED: 'ARCHIVE_UNSUPPORTED',
  ARCHIVE_SPECIAL_FILE: 'ARCHIVE_SPECIAL_FILE',
  ARCHIVE_BAD_MODE: 'ARCHIVE_BAD_MODE',
  ARCHIVE_LINK_OUTSIDE: 'ARCHIVE_LINK_OUTSIDE',
  ARCHIVE_WRITE_THROUGH_LINK: 'ARCHIVE_WRITE_THROUGH_LINK',
  ARCHIVE_HEADER_MISMATCH: 'ARCHIVE_HEADER_MISMATCH',
  ARCHIVE_OVERLAP: 'ARCHIVE_OVERLAP',
  ARCHIVE_SIZE_MISMATCH: 'ARCHIVE_SIZE_MISMATCH',
  ARCHIVE_CRC_MISMATCH: 'ARCHIVE_CRC_MISMATCH',
  ARCHIVE_LIMIT: 'ARCHIVE_LIMIT',
  ARCHIVE_OBJECT_INVALID: 'ARCHIVE_OBJECT_INVALID',
  // metadata
  METADATA_INVALID: 'METADATA_INVALID',
  METADATA_MISMATCH: 'METADATA_MISMATCH',
  // object-code relocation (during staging)
  RELOCATION_TOO_LONG: 'RELOCATION_TOO_LONG',
  RELOCATION_LIBRARY_NOT_FOUND: 'RELOCATION_LIBRARY_NOT_FOUND',
  // the prefix and its packages
  NO_SPACE: 'NO_SPACE',
  FILE_CONFLICT: 'FILE_CONFLICT',
  NOT_INSTALLED: 'NOT_INSTALLED',
  RECORD_INVALID: 'RECORD_INVALID',
  PREFIX_LOCKED: 'PREFIX_LOCKED',
  UNSAFE_PREFIX_PATH: 'UNSAFE_PREFIX_PATH',
  // scripts
  SCRIPT_FAILED: 'SCRIPT_FAILED',
  SCRIPT_TIMEOUT: 'SCRIPT_TIMEOUT',
  PYTHON_NOT_FOUND: 'PYTHON_NOT_FOUND',
  // transactions
  TRANSACTION_STATE: 'TRANSACTION_STATE',
  RECOVERY_FAILED: 'RECOVERY_FAILED',
  ROLLBACK_FAILED: 'ROLLBACK_FAILED',
  IO: 'IO',
  INTERRUPTED: 'INTERRUPTED',
  // the package store
  STORE_UNSAFE: 'STORE_UNSAFE',
  STORE_CORRUPT: 'STORE_CORRUPT',
  LINK_MODE_UNSUPPORTED: 'LINK_MODE_UNSUPPORTED',
  // the program itself: a bug, never an expected failure
  INTERNAL: 'INTERNAL',
} as const;

export const WarningCodes = {
  // metadata and layout
  METADATA_NAME_DIFFERS: 'METADATA_NAME_DIFFERS',
  WINDOWS_ONLY: 'WINDOWS_ONLY',
  // planning: ownership and records
  RECORD_OUTSIDE_PREFIX: 'RECORD_OUTSIDE_PREFIX',
  RECORD_THROUGH_LINK: 'RECORD_THROUGH_LINK',
  REPLACING_UNOWNED: 'REPLACING_UNOWNED',
  OVERWRITING_OWNED: 'OVERWRITING_OWNED',
  // scripts
  PRE_UNINSTALL_FAILED: 'PRE_UNINSTALL_FAILED',
  // transactions: rollback, recovery, cleanup
  ROLLBACK_DIR_KEPT: 'ROLLBACK_DIR_KEPT',
  ROLLBACK_LEFTOVER: 'ROLLBACK_LEFTOVER',
  CLEANUP_FAILED: 'CLEANUP_FAILED',
} as const;

export type EgginstErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
export type EgginstWarningCode = (typeof WarningCodes)[keyof typeof WarningCodes];

/** Error codes of other packages, registered by declaration merging (keys are the codes). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface ErrorCodeExtensions {}
/** Warning codes of other packages, registered by declaration merging (keys are the codes). */
// biome-ignore lint/suspicious/noEmptyInterface: filled by declaration merging
export interface WarningCodeExtensions {}

export type ErrorCode = EgginstErrorCode | (keyof ErrorCodeExtensions & string);
export type WarningCode = EgginstWarningCode | (keyof WarningCodeExtensions & string);
