/**
 * enpkg's public library API.
 *
 *   operations (install, remove, update, revert, self-update, bootstrap, queries): one options
 *   object in (config or session, request, reporter, signal, confirm, clock), plain data out
 *   versions and requirements  ->  resolve (request -> solution)  ->  plan (solution -> ordered actions)
 *   scenarios: a described universe + request, for `enpkg solve`
 */
export * from './ops/index.js';
export type * from './report.js';
export { openSession, type Session, type SessionOptions } from './session.js';
export * from './errors.js';
export type * from './types.js';
export { parseVersion, parseUpstream, versionOf, compareVersions, compareUpstream, packageLabel } from './version.js';
export { parseRequirement, satisfies, combineRequirements, type ParseRequirementOptions } from './requirement.js';
export { resolve, createRepository, type Repository, type ResolveOptions, type SolveStats } from './resolve/index.js';
export { planChanges, planToJson, dependencyOrder, type PlanOptions } from './plan.js';
export { closestNames } from './suggest.js';
export { parseScenario, parsePackageString, type Scenario, type Expectation, type ExpectedAction } from './scenario.js';

// Configuration, repositories and the signed, compressed index.
export type * from './repo/types.js';
export * from './codes.js';
export { loadConfig, findConfigFile, configToJson, DEFAULT_NETWORK, type LoadConfigOptions } from './config.js';
export { addRepositoryUrl, storeCredentials, importEnstallerConfig, type ConfigEditResult } from './config-write.js';
export { parseProxy } from './http/proxy.js';
export { loadRepositories, loadRepository, type LoadRepositoriesOptions } from './repo/load.js';
export { loadIndexSet, type IndexWant, type LoadIndexSetOptions } from './repo/sharded.js';
export { searchPackages, packageInfo, type SearchRow, type InfoResult, type InstalledRef, type QueryOptions } from './repo/query.js';
export { redactUrl, parseLocation } from './repo/location.js';
export { openIndexCache, repoCacheId, type IndexCache, type CachedIndexMeta } from './index-cache.js';
export { createHttpClient, type HttpClient, type GetRequest, type GetResult } from './http/client.js';
export { publishIndex, serializeIndex, serializeLegacyIndex, type PublishOptions, type PublishResult } from './repodata/write.js';
export { decodeIndex } from './repodata/decode.js';
export { publishFromIndex, type FromIndexResult } from './repodata/from-index.js';
export {
  decodeRoot,
  decodeShard,
  DEFAULT_SHARD_CAPS,
  ROOT_FILE,
  ROOT_SIGNATURE_FILE,
  serializeRoot,
  serializeShard,
  shardPath,
  type RootDocument,
  type ShardCaps,
  type ShardRef,
} from './repodata/shards.js';
export { DEFAULT_SHARD_GRACE_DAYS, type ShardedResult } from './repodata/write-shards.js';
export {
  parseIndexText,
  parseIndexDocument,
  entryToJson,
  INDEX_SCHEMA,
  type IndexDocument,
  type IndexEntryJson,
} from './repodata/parse.js';
export { compressIndex, decompressIndex } from './repodata/zstd.js';
export { writeKeyPair, readPrivateKey, signIndex, parsePublicKey, parseSignature, verifySignature } from './repodata/sign.js';

// enpkg's own installation: the pointer, the choice of version, crash points of self-update.
export { SELF_CRASH_POINTS, type SelfCrashPoint } from './crash.js';
export { parsePointer, formatPointer, readPointer, type Pointer } from './self/pointer.js';
export { chooseSelf, selfCandidates, compareSelf, type SelfChoice, type SelfWant } from './self/choose.js';
export { leanYoungGeneration, roomyYoungGeneration } from './heap.js';
