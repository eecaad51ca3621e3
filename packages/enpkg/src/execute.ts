/**
 * Stage 6: carry out a planned transaction as one egginst transaction, and record it. All eggs are
 * fetched and verified first (fetch/), then staged, applied and committed together; the revision
 * (state database) follows egginst's commit mark, and a crash in between is finished by the next
 * run's reconciliation from the payload the journal carries.
 */
import {
  acknowledgeCommitted,
  addReferences,
  committedPayloads,
  hashFile,
  openStore,
  openTransaction,
  PkgError,
  type Change,
  type EggJob,
  type Journal,
  type TransactionResult,
  type Warning,
} from 'egginst';
import { EnpkgErrorCodes } from './errors.js';
import { releaseReferences, storeDir } from './store.js';
import type { Reporter } from './report.js';
import type { Session } from './session.js';
import type { RevisionKind } from './state/db.js';
import { syncHistFile } from './state/hist.js';
import { noteRecordsInSync, type PackageMeta, recordTransaction, txnPayload } from './state/sync.js';
import type { Action } from './types.js';
import { roomyYoungGeneration } from './heap.js';

/** An egg ready to install: verified, in the cache. */
export interface ReadyEgg {
  key: string;
  eggName: string;
  path: string;
  sha256: string | null;
  repository: string | null;
}

export interface ExecuteInput {
  session: Session;
  actions: readonly Action[];
  /** By key, for every install and update action. */
  eggs: ReadonlyMap<string, ReadyEgg>;
  /** Keys the user asked for, after the transaction (the others are automatic). */
  marked: ReadonlySet<string>;
  kind: RevisionKind;
  command: string;
  noScripts?: boolean;
  force?: boolean;
  reporter?: Reporter;
  signal?: AbortSignal;
}

export interface ExecuteResult {
  revision: number;
  changes: Change[];
  warnings: Warning[];
}

export async function execute(input: ExecuteInput): Promise<ExecuteResult> {
  const { session, actions } = input;
  const jobs: EggJob[] = [];
  const packages = new Map<string, PackageMeta>();
  for (const a of actions) {
    if (a.kind === 'remove') {
      jobs.push({ kind: 'remove', key: a.package.key });
      continue;
    }
    const pkg = a.kind === 'install' ? a.package : a.to;
    const egg = input.eggs.get(pkg.key);
    if (!egg) throw new PkgError(EnpkgErrorCodes.INTERNAL, `no egg was fetched for ${pkg.key}`);
    jobs.push({ kind: 'install', eggPath: egg.path, eggName: egg.eggName, sha256: egg.sha256 ?? hashFile(egg.path) });
    packages.set(pkg.key, { sha256: egg.sha256, repository: egg.repository, depends: [...pkg.depends], marked: input.marked.has(pkg.key) });
  }
  const removed = new Set(actions.flatMap((a) => (a.kind === 'remove' ? [a.package.key] : [])));
  const marks = session.state
    .installed()
    .filter((r) => !packages.has(r.key) && !removed.has(r.key) && r.marked !== input.marked.has(r.key))
    .map((r) => ({ key: r.key, marked: input.marked.has(r.key) }));
  const payload = txnPayload({ kind: input.kind, command: input.command, user: session.user, packages, marks });

  // The database's write lock first: a busy or read-only state.db is found before anything moves.
  const write = session.state.beginWrite();
  try {
    // References first: a crash after them leaves one too many, never one too few (cache clean checks them).
    const store = session.config.store ? openStore(storeDir(session.config.cacheDir)) : null;
    const before = new Map(session.state.installed().map((r) => [r.key, r.sha256]));
    if (store)
      addReferences(
        store,
        jobs.flatMap((job) => (job.kind === 'install' ? [job.sha256!] : [])),
        session.prefix,
      );
    // Staging builds an object per file of every egg: give the heap room (heap.ts), as for an index.
    roomyYoungGeneration();
    const tx = await openTransaction({
      ...(store ? { store: { dir: store, linkMode: session.config.linkMode } } : {}),
      prefix: session.prefix,
      lock: session.lock,
      payload,
      force: !!input.force,
      noScripts: !!input.noScripts,
      timeoutSeconds: session.config.scriptTimeoutSeconds,
      ...(session.config.pythonExecutable ? { python: session.config.pythonExecutable } : {}),
      ...(input.reporter ? { reporter: input.reporter } : {}),
      ...(input.signal ? { signal: input.signal } : {}),
      command: input.command,
    });
    let result: TransactionResult;
    let revision = 0;
    try {
      await tx.prepare(jobs);
      await tx.apply();
      // Recorded while the files the transaction moved aside are deleted by other threads.
      result = tx.commit((committed) => {
        // The kept copy of the journal, or (when the cleanup could not write it) the same facts from
        // memory: the revision is recorded either way, and once only (by transaction id).
        const journal: Pick<Journal, 'id' | 'changes'> & { payload?: unknown } = committedPayloads(session.prefix).find(
          (j) => j.id === committed.id,
        ) ?? {
          id: committed.id,
          changes: committed.changes,
          payload,
        };
        revision = recordTransaction(session.state, session.prefix, journal, committed.records);
        noteRecordsInSync(session.state, session.prefix);
        write.commit();
        if (store)
          releaseReferences(store, session.prefix, before, new Set(jobs.flatMap((j) => (j.kind === 'install' ? [j.sha256!] : []))));
        syncHistFile(session.prefix, () => session.state.revisions(), input.reporter);
      });
    } finally {
      await tx.close();
    }
    acknowledgeCommitted(session.prefix, result.id);
    return { revision, changes: result.changes, warnings: result.warnings };
  } finally {
    write.release();
  }
}
