/**
 * resolve(): a request in, the complete installed set after it out (or a PkgError that explains why
 * there is none). A pure function of its input; nothing is printed or written.
 *
 * The policy, in order (docs/resolver-policy.md):
 *   a. jobs are hard: what is asked is installed, removed or updated (update targets reach the newest
 *      version any solution allows, in job order);
 *   b. marked packages stay installed, in another version when their own is impossible; one is removed
 *      only when no version of it can stay with the others (then the plan says why);
 *   c. the fewest changes to the installed set (an install, a removal or a version change each count
 *      one); automatic packages that nothing needs any more are removed;
 *   d. among equal-change solutions, newest versions, then repository priority, then higher build.
 * (a) and (b) are hard constraints and a loop over them; (c) is the solver's branch and bound; (d) is
 * the order in which it tries candidates. The solver stays complete: these only choose among solutions.
 */
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { parseRequirement, satisfies } from '../requirement.js';
import type { HeldBack, PackageInfo, RemoveReason, ResolveRequest, Solution } from '../types.js';
import { compareVersions, packageLabel } from '../version.js';
import { shortExplanation } from './chain.js';
import { explain } from './explain.js';
import type { Incompat, NameState } from './model.js';
import { buildProblem, describeJobs, type Problem } from './problem.js';
import { solve, type SolveResult, type SolveStats } from './pubgrub.js';
import { cachedRequirement, createRepository, type Repository } from './repository.js';

export { createRepository, type Repository } from './repository.js';
export type { SolveStats } from './pubgrub.js';

export interface ResolveOptions {
  /** `createRepository(request.available)`, when the caller solves several requests on one index. */
  readonly repository?: Repository;
  /** Filled with counters of the solver's work (for benchmarks). */
  readonly stats?: SolveStats;
  /** Decisions the search for fewer changes may make after the first solution (default 500). */
  readonly searchBudget?: number;
}

const DEFAULT_BUDGET = 500;
/** Held-back packages whose reason may take a solve of its own (the others get a general one). */
const REASON_SOLVES = 5;

interface Attempt {
  readonly problem: Problem;
  readonly result: SolveResult;
}

/** The marked packages whose "must stay installed" a failure's derivation uses. */
function markedIn(problem: Problem, failure: Incompat): string[] {
  const out: string[] = [];
  const seen = new Set<Incompat>();
  const walk = (inc: Incompat): void => {
    if (seen.has(inc)) return;
    seen.add(inc);
    if (inc.cause.kind === 'derived') {
      walk(inc.cause.left);
      walk(inc.cause.right);
    } else if (inc.cause.kind === 'marked') {
      const t = inc.terms.find((x) => x.name !== 0);
      if (t) out.push(problem.pool.names[t.name]!.key);
    }
  };
  walk(failure);
  return out;
}

function unsatisfiable(request: ResolveRequest, attempt: Attempt & { result: { ok: false } }): PkgError {
  const lines = explain(attempt.problem.pool, attempt.result.incompat);
  const head = `cannot ${describeJobs(request.jobs)}:\n  `;
  const shown = shortExplanation(attempt.problem.pool, attempt.result.incompat, lines);
  return new PkgError(EnpkgErrorCodes.UNSATISFIABLE, `${head}${shown.join('\n  ')}`, {
    hint: 'change one of the requirements above (another version, or without the package that imposes it)',
    details: { explanation: lines, ...(shown.length < lines.length ? { fullMessage: `${head}${lines.join('\n  ')}` } : {}) },
  });
}

export function resolve(request: ResolveRequest, options: ResolveOptions = {}): Solution {
  const repo = options.repository ?? createRepository(request.available);
  const found = resolveOnce(request, { ...options, repository: repo });
  const heldBack = heldBackOf(request, found, repo, options);
  if (heldBack.length > 0 && request.strict) {
    const lines = heldBack.map((h) => h.line);
    throw new PkgError(
      EnpkgErrorCodes.UNSATISFIABLE,
      `cannot ${describeJobs(request.jobs)}: not every package can reach its newest version:\n  ${lines.join('\n  ')}`,
      { hint: 'leave out --strict to update each package as far as the others allow', details: { explanation: lines } },
    );
  }
  return heldBack.length > 0 ? { ...found.solution, heldBack } : found.solution;
}

interface Found {
  readonly solution: Solution;
  readonly problem: Problem;
  readonly choice: Int32Array;
}

/** The update targets that stay behind their newest candidate, each with the reason in one line. */
function heldBackOf(request: ResolveRequest, found: Found, repo: Repository, options: ResolveOptions): HeldBack[] {
  const { problem, choice, solution } = found;
  const out: HeldBack[] = [];
  const budget = { solves: REASON_SOLVES };
  for (const s of problem.pool.names) {
    const c = choice[s.index] ?? -1;
    if (!s.target || c <= 0 || compareVersions(s.versions[c]!, s.versions[0]!) >= 0) continue;
    const now = s.cands[c]!;
    const newest = s.cands[0]!;
    const head = now === s.cands[s.installed] ? `${s.name} stays at ${ver(now)}` : `${s.name} goes to ${ver(now)}, not ${ver(newest)}`;
    out.push({ package: now, newest, line: `${head}: ${whyNotNewest(request, solution, s, repo, options, budget)}` });
  }
  return out;
}

const ver = (p: PackageInfo): string => `${p.version}-${p.build}`;

/** The one-line reason: a package that stays and excludes the newest, else the first line of why it cannot be had. */
function whyNotNewest(
  request: ResolveRequest,
  solution: Solution,
  s: NameState,
  repo: Repository,
  options: ResolveOptions,
  budget: { solves: number },
): string {
  const newestVersion = s.versions[0]!;
  for (const q of solution.packages) {
    if (q.key === s.key) continue;
    for (const d of q.depends) {
      const r = cachedRequirement(repo.requirements, d);
      if (!(r instanceof PkgError) && r.key === s.key && !satisfies(r, newestVersion)) return `${packageLabel(q)} requires ${r.text}`;
    }
  }
  const newest = s.cands[0]!;
  const generic = `${packageLabel(newest)} does not fit with the versions chosen for the packages updated before it`;
  if (budget.solves-- <= 0) return generic;
  const pin = parseRequirement(`${newest.name} == ${ver(newest)}`);
  try {
    resolveOnce({ ...request, strict: false, jobs: [...request.jobs, { kind: 'install', requirement: pin }] }, options, false);
  } catch (e) {
    if (e instanceof PkgError && e.code === EnpkgErrorCodes.UNSATISFIABLE) {
      const lines = (e.details?.explanation as string[] | undefined) ?? [];
      if (lines[0]) return lines[0].replace(/\.$/, '');
    }
    if (!(e instanceof PkgError)) throw e;
  }
  return generic;
}

/** `mayDrop`: remove marked packages no version of which can stay (policy b); else fail. */
function resolveOnce(request: ResolveRequest, options: ResolveOptions, mayDrop = true): Found {
  const repo = options.repository ?? createRepository(request.available);
  const budget = options.searchBudget ?? DEFAULT_BUDGET;
  const hasTargets = request.jobs.some((j) => j.kind !== 'install' && j.kind !== 'remove');
  const dropped = new Map<string, string[]>();
  const attempt = (minimize: boolean, pins?: ReadonlyMap<string, PackageInfo>): Attempt => {
    const problem = buildProblem(request, repo, { dropped: new Set(dropped.keys()), ...(pins ? { pins } : {}) });
    const result = solve(problem.pool, problem.rootIncompats, problem.seeds, {
      stats: options.stats,
      minimize: minimize ? { budget } : undefined,
    });
    return { problem, result };
  };

  // (a), (b): drop marked packages the failure involves, one at a time, until there is a solution.
  let current = attempt(!hasTargets);
  if (!current.result.ok) {
    while (!current.result.ok) {
      const failed = current as Attempt & { result: { ok: false } };
      const candidates = markedIn(failed.problem, failed.result.incompat).filter((k) => !dropped.has(k));
      if (candidates.length === 0 || !mayDrop) throw unsatisfiable(request, failed);
      dropped.set(candidates[0]!, explain(failed.problem.pool, failed.result.incompat));
      current = attempt(false);
    }
    // Keep every dropped one that can stay after all (the first drops may have been more than needed).
    for (const key of [...dropped.keys()]) {
      const why = dropped.get(key)!;
      dropped.delete(key);
      const again = attempt(false);
      if (again.result.ok) current = again;
      else dropped.set(key, explain(again.problem.pool, (again.result as { incompat: Incompat }).incompat) ?? why);
    }
    if (!hasTargets) current = attempt(true);
  }
  // (a) for updates: hold each target at the version found (the newest possible), then (c) and (d).
  if (hasTargets) {
    const pins = new Map<string, PackageInfo>();
    for (const s of current.problem.pool.names) {
      if (!s.target) continue;
      const c = (current.result as { choice: Int32Array }).choice[s.index]!;
      if (c >= 0) pins.set(s.key, s.cands[c]!);
    }
    current = attempt(true, pins);
  }
  if (!current.result.ok) throw unsatisfiable(request, current as Attempt & { result: { ok: false } });
  const { problem, result } = current;
  return { solution: solutionOf(request, problem, result.choice, dropped, repo), problem, choice: result.choice };
}

function solutionOf(
  request: ResolveRequest,
  problem: Problem,
  choice: Int32Array,
  dropped: ReadonlyMap<string, string[]>,
  repo: Repository,
): Solution {
  const packages: PackageInfo[] = [];
  const names = problem.pool.names;
  for (let i = 1; i < names.length; i++) {
    const c = choice[i]!;
    if (c >= 0) packages.push(names[i]!.cands[c]!);
  }
  packages.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const finalKeys = new Set(packages.map((p) => p.key));
  const marked = new Set<string>();
  for (const k of problem.marked) if (finalKeys.has(k)) marked.add(k);
  for (const k of problem.installKeys) if (finalKeys.has(k)) marked.add(k);
  const removeReasons = new Map<string, RemoveReason>(problem.removed);
  const gone = request.installed.filter((p) => !finalKeys.has(p.key) && !removeReasons.has(p.key));
  // A removed package every version of which depends on a removed one is its dependent.
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of gone) {
      if (removeReasons.has(p.key)) continue;
      const on = dependsOnRemoved(problem, p, removeReasons, repo);
      if (on !== null) {
        removeReasons.set(p.key, { kind: 'dependent', on });
        grew = true;
      }
    }
  }
  for (const p of gone) {
    if (removeReasons.has(p.key)) continue;
    const why = dropped.get(p.key);
    removeReasons.set(p.key, why ? { kind: 'conflict', why: why[0] ?? '' } : { kind: 'unneeded' });
  }
  return { packages, marked: [...marked].sort(), removeReasons };
}

/** The name of a removed package that every candidate of `p` depends on, or null. */
function dependsOnRemoved(problem: Problem, p: PackageInfo, removed: ReadonlyMap<string, RemoveReason>, repo: Repository): string | null {
  const idx = problem.pool.byKey.get(p.key);
  const cands = idx === undefined ? [p] : problem.pool.names[idx]!.cands;
  let common: string[] | null = null;
  for (const c of cands) {
    const keys: string[] = [];
    for (const d of c.depends) {
      const r = cachedRequirement(repo.requirements, d);
      if (!(r instanceof PkgError) && removed.has(r.key)) keys.push(r.key);
    }
    common = common === null ? keys : common.filter((k) => keys.includes(k));
    if (common.length === 0) return null;
  }
  const key = common?.sort()[0];
  return key === undefined ? null : (problem.pool.installed.get(key)?.name ?? key);
}
