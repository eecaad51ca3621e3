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
} as const;
