/**
 * The part of egginst that every enpkg run needs (errors, the lock, records, recovery, verification),
 * as a light entry point: `egginst/core` loads a handful of modules, `egginst` all of them.
 */
export * from './errors.js';
export { escapeForTerminal, escapeLinesForTerminal, jsonForTerminal } from './escape.js';
export type * from './types.js';
export { parseEggName, requireEggName, formatEggName, isValidName } from './eggname.js';
export { listInstalled, readRecord, ownedPaths, recordsSignature } from './record.js';
export { lockPrefix, type PrefixLock, type LockOptions } from './lock.js';
export { committedPayloads, acknowledgeCommitted, type Journal, type TransactionFs } from './journal.js';
export { recoverPrefix, type RecoveryOptions, type RecoveryOutcome } from './recover.js';
export { verifyInstalled, type VerifyResult, type VerifyProblem } from './verify.js';
export { crashPoints } from './crash.js';
export { writeFileDurably, fsyncDir, type WriteDurablyOptions } from './durable.js';
export { NO_REPORTER } from './reporter.js';
export { parseLiteralAssignments, type LiteralFileOptions, type PythonLiteral } from './spec.js';
