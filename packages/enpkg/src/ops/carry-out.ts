/**
 * The second half of every changing operation, once the transaction is planned: dry run, nothing to
 * do, confirm, fetch and verify every egg, then one egginst transaction and its revision.
 */
import type { Warning } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import type { ReadyEgg } from '../execute.js';
import type { IndexEntry, LoadedRepository, RepositoryConfig } from '../repo/types.js';
import type { Reporter } from '../report.js';
import type { Session } from '../session.js';
import type { RevisionKind } from '../state/db.js';
import type { Action, ChangePlan } from '../types.js';
import { checkInterrupted } from './common.js';
import type { ChangeOptions, ChangeResult } from './types.js';

export interface CarryOutInput {
  readonly session: Session;
  readonly opts: ChangeOptions;
  /** The operation's reporter (collecting warnings into `warnings`). */
  readonly reporter: Reporter;
  readonly warnings: Warning[];
  readonly plan: ChangePlan;
  /** Keys the user asked for, after the transaction. */
  readonly marked: ReadonlySet<string>;
  readonly kind: RevisionKind;
  /** The repositories the installed eggs come from. */
  readonly repositories: readonly LoadedRepository[];
  /** Eggs the caller already has (revert, from the cache), by key. */
  readonly eggs?: ReadonlyMap<string, ReadyEgg>;
  /** A removal's packages that were not named, for the question. */
  readonly unnamedRemovals?: readonly string[];
}

const installs = (a: Action): IndexEntry | null => (a.kind === 'remove' ? null : ((a.kind === 'install' ? a.package : a.to) as IndexEntry));

export async function carryOut(input: CarryOutInput): Promise<ChangeResult> {
  const { session, opts, plan } = input;
  const result = (outcome: ChangeResult['outcome'], revision: number | null = null): ChangeResult => ({
    prefix: session.prefix,
    plan,
    revision,
    outcome,
    satisfied: [],
    warnings: input.warnings,
  });
  if (opts.dryRun) return result('dry-run');
  if (plan.actions.length === 0) {
    const marks = session.state
      .installed()
      .filter((r) => r.marked !== input.marked.has(r.key))
      .map((r) => ({ key: r.key, marked: input.marked.has(r.key) }));
    if (marks.length) session.state.setMarked(marks);
    return result('done');
  }
  const unnamed = input.unnamedRemovals?.length ? { unnamedRemovals: input.unnamedRemovals } : {};
  if (opts.confirm && !(await opts.confirm({ kind: 'transaction', prefix: session.prefix, plan, ...unnamed }))) return result('declined');
  checkInterrupted(opts.signal);
  const eggs = new Map(input.eggs ?? []);
  const wanted = plan.actions.map(installs).filter((e): e is IndexEntry => e !== null && !eggs.has(e.key));
  if (wanted.length) {
    const fetched = await fetchReadyEggs({
      session,
      repositories: input.repositories,
      entries: wanted,
      reporter: input.reporter,
      offline: opts.offline === true,
      ...(opts.signal ? { signal: opts.signal } : {}),
    });
    for (const egg of fetched) eggs.set(egg.key, egg);
  }
  checkInterrupted(opts.signal);
  const { execute } = await import('../execute.js');
  const done = await execute({
    session,
    actions: plan.actions,
    eggs,
    marked: input.marked,
    kind: input.kind,
    command: opts.command,
    noScripts: opts.noScripts === true,
    reporter: input.reporter,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  input.warnings.push(...done.warnings.filter((w) => !input.warnings.includes(w)));
  return result('done', done.revision);
}

export interface FetchReadyInput {
  readonly session: Session;
  readonly repositories: readonly LoadedRepository[];
  readonly entries: readonly IndexEntry[];
  readonly reporter: Reporter;
  readonly offline: boolean;
  readonly signal?: AbortSignal;
}

/** Fetch (or find in the cache) and verify the eggs, from the repositories their entries name. */
export async function fetchReadyEggs(input: FetchReadyInput): Promise<ReadyEgg[]> {
  const { entries } = input;
  const byName = new Map<string, RepositoryConfig>(input.repositories.map((r) => [r.config.name, r.config]));
  const requests = entries.map((entry) => {
    const repository = byName.get(entry.repository);
    if (!repository) {
      throw new PkgError(EnpkgErrorCodes.EGG_UNAVAILABLE, `${entry.eggName} is in no configured repository`, {
        hint: 'add the repository that has it, or pick another version',
        details: { egg: entry.eggName },
      });
    }
    return { entry, repository };
  });
  const { fetchEggs } = await import('../fetch/index.js');
  const config = input.session.config;
  try {
    const fetched = await fetchEggs(requests, {
      cacheDir: config.cacheDir,
      parallel: config.parallelDownloads,
      network: config.network,
      offline: input.offline,
      ...(input.signal ? { signal: input.signal } : {}),
      reporter: input.reporter,
    });
    return fetched.map((f, i) => ({
      key: f.key,
      eggName: f.eggName,
      path: f.path,
      sha256: f.sha256,
      repository: requests[i]!.entry.repository,
    }));
  } finally {
    input.reporter.report({ type: 'download-done' });
  }
}
