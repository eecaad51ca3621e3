/**
 * install, remove, update: session (lock, reconcile) -> indexes -> solution (resolver, or the named
 * packages alone) -> plan -> carry out (confirm, fetch, one egginst transaction, revision).
 */
import { EnpkgErrorCodes, ErrorCodes, PkgError } from '../errors.js';
import { environment, prefixPythonVersion } from '../platform.js';
import { parseRequirement, satisfies } from '../requirement.js';
import type { Session } from '../session.js';
import type { Job, PackageInfo, Solution } from '../types.js';
import { versionOf } from '../version.js';
import { carryOut } from './carry-out.js';
import { collecting, withSession } from './common.js';
import { sessionIndexes, unreachableNote } from './indexes.js';
import type { ChangeOptions, ChangeResult, InstallOptions, RemoveOptions, UpdateOptions } from './types.js';

/** The jobs for requirement strings; enpkg itself is refused (it keeps itself: self-update). */
export function parseJobs(kind: 'install' | 'remove' | 'update', requirements: readonly string[]): Job[] {
  const jobs = requirements.map((r) => ({ kind, requirement: parseRequirement(r, { commandLine: true }) }) as Job);
  for (const j of jobs) {
    if (j.kind !== 'update_all' && j.requirement.key === 'enpkg') {
      throw new PkgError(
        EnpkgErrorCodes.SELF_NOT_A_PACKAGE,
        `enpkg is not ${kind === 'install' ? 'installed' : 'managed'} as a package: it keeps itself`,
        { hint: 'use enpkg self-update (or enpkg bootstrap --prefix DIR to put enpkg into a prefix)' },
      );
    }
  }
  return jobs;
}

export function installedPackages(session: Session): PackageInfo[] {
  return session.state.installed().map((r) => ({ name: r.name, key: r.key, version: r.version, build: r.build, depends: r.depends }));
}

interface Request {
  readonly jobs: readonly Job[];
  readonly noDeps: boolean;
  /** A removal with noDeps may leave packages that need the removed ones broken. */
  readonly force?: boolean;
  readonly reinstall: 'named' | 'all' | null;
  /** `when-needed`: only when the installed packages alone would lose a marked one. */
  readonly readsIndexes: boolean | 'when-needed';
  readonly strict?: boolean;
}

/**
 * `install X` when every X is installed and satisfied: nothing to fetch, resolve or change, so no
 * index is read; the named packages become manual, as a full run would make them.
 */
function alreadyInstalled(session: Session, opts: ChangeOptions, request: Request): string[] | null {
  if (opts.dryRun || request.reinstall || request.noDeps) return null;
  const rows = session.state.installed();
  const named = [];
  for (const job of request.jobs) {
    if (job.kind !== 'install') return null;
    const req = job.requirement;
    const row = rows.find((p) => p.key === req.key && satisfies(req, versionOf(p.version, p.build)));
    if (!row) return null;
    named.push(row);
  }
  const marks = named.filter((r) => !r.marked).map((r) => ({ key: r.key, marked: true }));
  if (marks.length) session.state.setMarked(marks);
  return named.map((r) => `${r.name} ${r.version}-${r.build}`);
}

async function change(opts: ChangeOptions, request: Request): Promise<ChangeResult> {
  const { reporter, warnings } = collecting(opts.reporter);
  return withSession({ ...opts, reporter }, async (session) => {
    const satisfied = alreadyInstalled(session, opts, request);
    if (satisfied) {
      const plan = { actions: [], unchanged: installedPackages(session) };
      return { prefix: session.prefix, plan, revision: null, outcome: 'already-installed', satisfied, warnings };
    }
    const installed = installedPackages(session);
    const wanted = [...request.jobs.flatMap((j) => (j.kind === 'update_all' ? [] : [j.requirement.key])), ...installed.map((p) => p.key)];
    const want = { kind: 'closure' as const, names: wanted };
    let repositories = request.readsIndexes === true ? await sessionIndexes(session, opts, reporter, want) : [];
    const marked = session.state
      .installed()
      .filter((r) => r.marked)
      .map((r) => r.key);
    const { solve } = await import('./solution.js');
    const solveWith = (available: readonly PackageInfo[]): Solution => {
      try {
        return solve({
          available,
          installed,
          marked,
          jobs: request.jobs,
          environment: environment(session.config.python ?? prefixPythonVersion(session.prefix, session.config.pythonExecutable)),
          noDeps: request.noDeps,
          strict: request.strict === true,
        });
      } catch (e) {
        throw unreachableNote(e, warnings);
      }
    };
    let available = repositories.flatMap((r) => r.index.entries);
    let solved = solveWith(available);
    // A removal reads the indexes only when a marked package would go with it: another version may stay.
    const losesMarked = () => marked.some((k) => solved.removeReasons.has(k) && solved.removeReasons.get(k)!.kind !== 'requested');
    if (request.readsIndexes === 'when-needed' && !request.noDeps && losesMarked()) {
      // Without readable indexes, the removal goes ahead with what is installed (as it did offline).
      const read = await sessionIndexes(session, opts, reporter, want).catch((e: unknown) => {
        if (e instanceof PkgError) return null;
        throw e;
      });
      if (read) {
        repositories = read;
        available = repositories.flatMap((r) => r.index.entries);
        solved = solveWith(available);
      }
    }
    const solution = request.jobs.some((j) => j.kind === 'remove') ? checkBreaks(installed, solved, request.force === true) : solved;
    const named = new Set(request.jobs.flatMap((j) => (j.kind === 'update_all' ? [] : [j.requirement.key])));
    const { planChanges } = await import('../plan.js');
    const plan = planChanges(installed, solution, {
      ...(request.reinstall ? { reinstall: { keys: request.reinstall === 'all' ? 'all' : named, available } } : {}),
    });
    return carryOut({
      session,
      opts,
      reporter,
      warnings,
      plan,
      marked: new Set(solution.marked),
      kind: 'transaction',
      repositories,
      unnamedRemovals: plan.actions.flatMap((a) =>
        a.kind === 'remove' && a.reason.kind !== 'requested' ? [`${a.package.name} ${a.package.version}-${a.package.build}`] : [],
      ),
    });
  });
}

function requirementKey(text: string): string | null {
  try {
    return parseRequirement(text).key;
  } catch {
    return null;
  }
}

/**
 * A removal that leaves packages needing the removed ones (`--no-deps`): refused, or with `force`
 * done, each removal's reason naming what it breaks.
 */
function checkBreaks(installed: readonly PackageInfo[], solution: Solution, force: boolean): Solution {
  const after = new Set(solution.packages.map((p) => p.key));
  const removed = new Map(installed.filter((p) => !after.has(p.key)).map((p) => [p.key, p]));
  const breaks = new Map<string, string[]>();
  for (const p of solution.packages) {
    for (const dep of p.depends) {
      const key = requirementKey(dep);
      if (key !== null && removed.has(key)) breaks.set(key, [...(breaks.get(key) ?? []), p.name]);
    }
  }
  if (breaks.size === 0) return solution;
  const said = [...breaks].map(([key, by]) => `${by.join(', ')} ${by.length === 1 ? 'needs' : 'need'} ${removed.get(key)!.name}`);
  if (!force) {
    throw new PkgError(EnpkgErrorCodes.REMOVE_BREAKS, `removing only the named packages would leave others broken: ${said.join('; ')}`, {
      hint: 'leave out -N/--no-deps to remove those too, or add --force to leave them broken',
      details: { breaks: Object.fromEntries(breaks) },
    });
  }
  const removeReasons = new Map(solution.removeReasons);
  for (const [key, by] of breaks) removeReasons.set(key, { kind: 'requested', breaks: by });
  return { ...solution, removeReasons };
}

export function install(opts: InstallOptions): Promise<ChangeResult> {
  if (opts.requirements.length === 0) {
    return Promise.reject(new PkgError(ErrorCodes.USAGE, 'nothing to install', { hint: 'name packages, or give -r FILE' }));
  }
  const jobs = parseJobs('install', opts.requirements);
  return change(opts, { jobs, noDeps: opts.noDeps === true, reinstall: opts.reinstall ?? null, readsIndexes: true });
}

export function remove(opts: RemoveOptions): Promise<ChangeResult> {
  if (opts.names.length === 0) return Promise.reject(new PkgError(ErrorCodes.USAGE, 'name the packages to remove'));
  const jobs = parseJobs('remove', opts.names);
  return change(opts, { jobs, noDeps: opts.noDeps === true, force: opts.force === true, reinstall: null, readsIndexes: 'when-needed' });
}

export function update(opts: UpdateOptions): Promise<ChangeResult> {
  let jobs: Job[];
  if (opts.all) jobs = [{ kind: 'update_all' }];
  else if (opts.names.length === 0) return Promise.reject(new PkgError(ErrorCodes.USAGE, 'name packages to update, or give --all'));
  else jobs = parseJobs('update', opts.names);
  return change(opts, {
    jobs,
    noDeps: opts.noDeps === true,
    reinstall: opts.reinstall ?? null,
    readsIndexes: true,
    strict: opts.strict === true,
  });
}
