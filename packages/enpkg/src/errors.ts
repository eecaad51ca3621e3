/**
 * enpkg's error codes. The error class itself is egginst's `PkgError` (one base class for the whole
 * project); enpkg adds its own stable codes here. Never renumber or reuse a code.
 */
import { PkgError, ErrorCodes, isPkgError } from 'egginst/core';

export { PkgError, ErrorCodes, isPkgError };

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
  // a bug of enpkg, not of its input
  INTERNAL: 'INTERNAL',
} as const;

export const EnpkgWarningCodes = {
  SELF_UPDATE_FAILED: 'SELF_UPDATE_FAILED',
} as const;
