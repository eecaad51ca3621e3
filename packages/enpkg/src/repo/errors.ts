/** Codes of configuration, repositories, transport and the index: in codes.ts, grouped by stage. */
export { RepoErrorCodes, RepoWarningCodes, type RepoErrorCode } from '../codes.js';
