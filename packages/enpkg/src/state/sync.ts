/**
 * Keeping the state database true to the disk. Run under the prefix lock, before anything else:
 *   1. egginst's recovery finishes or rolls back a transaction a crash interrupted;
 *   2. a committed egginst transaction whose revision enpkg did not record yet (a crash between the
 *      commit mark and the SQLite commit) is recorded from the payload it carries;
 *   3. packages installed or removed with plain egginst are recorded as an external revision.
 * After this, `enpkg list` and the disk agree.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  acknowledgeCommitted,
  committedPayloads,
  ErrorCodes,
  listInstalled,
  PkgError,
  readRecord,
  recordsSignature,
  recoverPrefix,
} from 'egginst/core';
import type { Change, FileRecord, InstallRecord, Journal, RecoveryOutcome, Reporter } from 'egginst/core';
import type { CommitInput, PackageWrite, RevisionKind, StateDb } from './db.js';
import { reconcileSelf } from '../self/history.js';
import { HIST_FILE, parseHist, syncHistFile } from './hist.js';

/** What enpkg records of a package a transaction installs or updates, beyond its egginst record. */
export interface PackageMeta {
  sha256: string | null;
  repository: string | null;
  depends: string[];
  /** The user asked for it (not only a dependency). */
  marked: boolean;
}

/** What enpkg stores in an egginst journal: enough to record the revision without anything else. */
export interface TxnPayload {
  kind: RevisionKind;
  command: string;
  user: string;
  /**
   * For each package installed or updated, by key. In the journal (JSON) this is an object keyed by
   * package key: build it with `txnPayload` and read it with `payloadPackages`, never by indexing it.
   */
  packages: Record<string, PackageMeta>;
  /** Marked flags of packages the transaction keeps but re-marks. */
  marks?: { key: string; marked: boolean }[];
}

export interface TxnPayloadInput {
  kind: RevisionKind;
  command: string;
  user: string;
  packages: ReadonlyMap<string, PackageMeta>;
  marks?: readonly { key: string; marked: boolean }[];
}

/** The payload for egginst's journal. Keys are own properties (a package may be named `__proto__`). */
export function txnPayload(input: TxnPayloadInput): TxnPayload {
  return {
    kind: input.kind,
    command: input.command,
    user: input.user,
    packages: Object.fromEntries(input.packages),
    ...(input.marks?.length ? { marks: [...input.marks] } : {}),
  };
}

const stringOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The packages of a payload read back from a journal: own keys only, each value checked (the journal
 * is a file in the prefix; a field that is not what enpkg wrote is left out, as if unknown).
 */
export function payloadPackages(payload: unknown): Map<string, Partial<PackageMeta>> {
  const out = new Map<string, Partial<PackageMeta>>();
  const packages = (payload as { packages?: unknown } | null)?.packages;
  if (packages === null || typeof packages !== 'object' || Array.isArray(packages)) return out;
  for (const [key, raw] of Object.entries(packages)) {
    if (raw === null || typeof raw !== 'object') continue;
    const m = raw as Record<string, unknown>;
    const meta: Partial<PackageMeta> = { sha256: stringOrNull(m.sha256), repository: stringOrNull(m.repository) };
    if (Array.isArray(m.depends) && m.depends.every((d) => typeof d === 'string')) meta.depends = m.depends as string[];
    if (typeof m.marked === 'boolean') meta.marked = m.marked;
    out.set(key, meta);
  }
  return out;
}

/** A package as its egginst record describes it (files included): `known`, or read from the prefix. */
export function packageFromRecord(prefix: string, key: string, meta: Partial<PackageMeta> = {}, known?: InstallRecord): PackageWrite {
  const rec = known ?? readRecord(prefix, key);
  if (!rec) {
    throw new PkgError(ErrorCodes.RECORD_INVALID, `the install record of ${key} (EGG-INFO/${key}/egginst.json) is missing`, {
      hint: 'another process changed the prefix; run the command again',
    });
  }
  const files: FileRecord[] = rec.records ?? rec.files.map((f) => ({ path: f.replace(/^\.\//, ''), kind: 'file' }));
  return {
    key,
    name: rec.name,
    version: rec.version,
    build: rec.build,
    eggName: rec.egg_name,
    sha256: meta.sha256 ?? null,
    repository: meta.repository ?? null,
    marked: meta.marked ?? true,
    depends: meta.depends ?? rec.spec?.packages ?? [],
    files,
  };
}

/**
 * Record a committed egginst transaction as a revision (once: a second call finds it recorded).
 * `records`: the install records the transaction wrote, by key, when the caller has them (else each
 * is read from the prefix).
 */
export function recordTransaction(
  state: StateDb,
  prefix: string,
  j: Pick<Journal, 'id' | 'changes' | 'payload'>,
  records?: ReadonlyMap<string, InstallRecord>,
): number {
  const done = state.revisionOfTransaction(j.id);
  if (done !== undefined) return done;
  const payload = j.payload as TxnPayload;
  const packages = payloadPackages(payload);
  const put: PackageWrite[] = [];
  const remove: string[] = [];
  for (const c of j.changes) {
    if (c.kind === 'remove') remove.push(c.key);
    else put.push(packageFromRecord(prefix, c.key, packages.get(c.key), records?.get(c.key)));
  }
  const input: CommitInput = {
    kind: payload.kind,
    command: payload.command,
    user: payload.user,
    txnId: j.id,
    changes: j.changes,
    put,
    remove,
  };
  if (payload.marks) input.mark = payload.marks;
  return state.commit(input);
}

/** The meta key of the install records' signature when the database last matched them. */
export const RECORDS_SIGNATURE = 'records_signature';

/** After enpkg itself changed the records and recorded it: the database and the disk agree. */
export function noteRecordsInSync(state: StateDb, prefix: string): void {
  state.setMeta(RECORDS_SIGNATURE, recordsSignature(prefix));
}

export interface ReconcileResult {
  recovered: RecoveryOutcome[];
  /** Revisions recorded from transactions a crash left unrecorded. */
  recorded: number[];
  /** The external-change revision, if plain egginst changed the prefix. */
  drift: number | null;
  /** A switch of enpkg's own version that the history did not have yet (self/history.ts). */
  self: number | null;
}

export function reconcile(state: StateDb, prefix: string, opts: { user: string; reporter?: Reporter }): ReconcileResult {
  const recovered = recoverPrefix(prefix, opts.reporter);
  const recorded: number[] = [];
  for (const j of committedPayloads(prefix)) {
    if (j.payload !== undefined) recorded.push(recordTransaction(state, prefix, j));
    acknowledgeCommitted(prefix, j.id);
  }
  if (state.latestRevision() === undefined) {
    // Enstaller's history comes first, if the prefix has one; then the prefix as enpkg found it.
    const histFile = join(prefix, HIST_FILE);
    if (existsSync(histFile)) {
      for (const h of parseHist(readFileSync(histFile, 'utf8'), histFile)) {
        state.commit({
          kind: 'import',
          command: '(imported from enpkg.hist)',
          user: opts.user,
          time: h.time,
          changes: h.changes,
          put: [],
          remove: [],
          installed: h.installed,
        });
      }
    }
    // Revision 0 (when there was no history) is the prefix as enpkg first found it.
    const put = listInstalled(prefix).map((p) => packageFromRecord(prefix, p.key));
    const changes: Change[] = put.map((p) => ({
      kind: 'install',
      key: p.key,
      name: p.name,
      version: p.version,
      build: p.build,
      eggName: p.eggName,
    }));
    state.commit({ kind: 'import', command: '(state when enpkg first ran here)', user: opts.user, changes, put, remove: [] });
    const self = reconcileSelf(state, prefix, opts.user);
    syncHistFile(prefix, () => state.revisions(), opts.reporter);
    return { recovered, recorded, drift: null, self };
  }
  // Reading every record is most of a no-op run's time: skipped while their signature is unchanged.
  const signature = recordsSignature(prefix);
  let drift: number | null = null;
  if (state.meta(RECORDS_SIGNATURE) !== signature) {
    drift = recordDrift(state, prefix, opts.user);
    state.setMeta(RECORDS_SIGNATURE, signature);
  }
  const self = reconcileSelf(state, prefix, opts.user);
  if (recorded.length || drift !== null || self !== null) syncHistFile(prefix, () => state.revisions(), opts.reporter);
  return { recovered, recorded, drift, self };
}

/** Compare the disk with the database; record any difference as an external revision. */
export function recordDrift(state: StateDb, prefix: string, user: string): number | null {
  const disk = new Map(listInstalled(prefix).map((p) => [p.key, p]));
  const db = new Map(state.installed().map((p) => [p.key, p]));
  const changes: Change[] = [];
  const put: PackageWrite[] = [];
  const remove: string[] = [];
  for (const [key, d] of disk) {
    const known = db.get(key);
    if (known && known.eggName === d.eggName) continue;
    const p = packageFromRecord(prefix, key, { marked: known?.marked ?? true });
    put.push(p);
    const to = { version: p.version, build: p.build, eggName: p.eggName };
    changes.push(
      known
        ? { kind: 'update', key, name: p.name, from: { version: known.version, build: known.build, eggName: known.eggName }, to }
        : { kind: 'install', key, name: p.name, ...to },
    );
  }
  for (const [key, known] of db) {
    if (disk.has(key)) continue;
    remove.push(key);
    changes.push({ kind: 'remove', key, name: known.name, version: known.version, build: known.build, eggName: known.eggName });
  }
  if (changes.length === 0) return null;
  return state.commit({ kind: 'external', command: '(changed outside enpkg, e.g. with egginst)', user, changes, put, remove });
}
