/**
 * The error class of the whole project is egginst's `PkgError`; enpkg's codes are in codes.ts.
 */
import { PkgError, ErrorCodes, isPkgError, WarningCodes } from 'egginst/core';

export { PkgError, ErrorCodes, isPkgError, WarningCodes };
export { EnpkgErrorCodes, EnpkgWarningCodes, type EnpkgErrorCode, type EnpkgWarningCode } from './codes.js';
