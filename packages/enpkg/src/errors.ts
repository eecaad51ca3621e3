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
  // the prefix, its state and its history
  NO_PREFIX: 'NO_PREFIX',
  STATE_UNREADABLE: 'STATE_UNREADABLE',
  HISTORY_INVALID: 'HISTORY_INVALID',
  NO_SUCH_REVISION: 'NO_SUCH_REVISION',
  // operations
  EGG_UNAVAILABLE: 'EGG_UNAVAILABLE',
  SELF_NOT_A_PACKAGE: 'SELF_NOT_A_PACKAGE',
  // enpkg's own installation
  SELF_NOT_BOOTSTRAPPED: 'SELF_NOT_BOOTSTRAPPED',
  SELF_ALREADY_BOOTSTRAPPED: 'SELF_ALREADY_BOOTSTRAPPED',
  SELF_VERSION_NOT_FOUND: 'SELF_VERSION_NOT_FOUND',
  SELF_NO_PREVIOUS: 'SELF_NO_PREVIOUS',
  SELF_EGG_INVALID: 'SELF_EGG_INVALID',
  SELF_EGG_INCOMPATIBLE: 'SELF_EGG_INCOMPATIBLE',
  SELF_SMOKE_FAILED: 'SELF_SMOKE_FAILED',
  SELF_POINTER_INVALID: 'SELF_POINTER_INVALID',
  SELF_LAUNCHER_CONFLICT: 'SELF_LAUNCHER_CONFLICT',
  // a bug: never expected
  INTERNAL: 'INTERNAL',
} as const;

export const EnpkgWarningCodes = {
  SELF_UPDATE_FAILED: 'SELF_UPDATE_FAILED',
} as const;
