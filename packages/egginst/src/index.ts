/**
 * egginst's public library API. enpkg uses only what is exported here.
 */
export * from './errors.js';
export { escapeForTerminal, escapeLinesForTerminal, jsonForTerminal } from './escape.js';
export type * from './types.js';
export { openArchive, DEFAULT_LIMITS, type Archive, type ArchiveEntry } from './archive.js';
export { parseEggName, requireEggName, formatEggName, isValidName } from './eggname.js';
export { parseLiteralAssignments, parseSpecDepend, type LiteralFileOptions, type PythonLiteral } from './spec.js';
export { readMetadata } from './metadata.js';
export {
  computeLayout,
  destinationOf,
  keepLayout,
  modeFor,
  parseEntryPoints,
  restoreLayout,
  type KeptLayout,
  type Layout,
  type LayoutContext,
  type LayoutItem,
} from './layout.js';
export { listInstalled, readRecord, ownedPaths, recordsSignature } from './record.js';
export { lockPrefix, type PrefixLock, type LockOptions } from './lock.js';
export { CRASH_POINTS, type CrashPoint } from './crash.js';
export {
  openTransaction,
  runTransaction,
  recoverPrefix,
  EggTransaction,
  type TransactionOptions,
  type TransactionFs,
  type RecoveryOptions,
  type RecoveryOutcome,
} from './transaction.js';
export { inspectEgg } from './inspect.js';
export { unpackTree, type UnpackResult } from './unpack.js';
export { flushFilesystem } from './durable.js';
export { committedPayloads, acknowledgeCommitted, type Journal } from './journal.js';
export { verifyInstalled, type VerifyResult, type VerifyProblem } from './verify.js';
export { NO_REPORTER } from './reporter.js';
export { ownPython, pythonFinder, type Python } from './python.js';
export {
  bufferReader,
  mayBeObjectCode,
  objectFormat,
  relocationPatches,
  type ObjectReader,
  type Patch,
  type RelocationContext,
} from './relocate.js';
export { defaultLinkMode, LINK_MODES, type LinkMode } from './link.js';
export {
  addReferences,
  checkEntry,
  dropReferences,
  fillEntries,
  listStore,
  openStore,
  readEntry,
  referencesOf,
  removeEntry,
  removeLeftover,
  removeReference,
  removeSpareDirs,
  checkOwnDir,
  type EntryProblem,
  type StoreEntry,
  type StoreManifest,
} from './store.js';
export { hashFile } from './extract.js';
export { unsafeNameReason, collisionKey, directoriesOf } from './paths.js';
export { decodeOps, encodeOps, runTreeOps, removeTrees, startRemoveTrees, TreeThreads, type TreeOp, type TreeWork } from './tree-ops.js';
