/**
 * resolve(): a request in, the complete installed set after it out (or a PkgError that explains why
 * there is none). A pure function of its input; nothing is printed or written.
 */
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import type { PackageInfo, RemoveReason, ResolveRequest, Solution } from '../types.js';
import { explain } from './explain.js';
import { buildProblem, describeJobs } from './problem.js';
import { solve, type SolveStats } from './pubgrub.js';
import { createRepository, type Repository } from './repository.js';

export { createRepository, type Repository } from './repository.js';
export type { SolveStats } from './pubgrub.js';

export interface ResolveOptions {
  /** `createRepository(request.available)`, when the caller solves several requests on one index. */
  readonly repository?: Repository;
  /** Filled with counters of the solver's work (for benchmarks). */
  readonly stats?: SolveStats;
}

export function resolve(request: ResolveRequest, options: ResolveOptions = {}): Solution {
  const repo = options.repository ?? createRepository(request.available);
  const problem = buildProblem(request, repo);
  const result = solve(problem.pool, problem.rootIncompats, problem.seeds, options.stats);
  if (!result.ok) {
    const lines = explain(problem.pool, result.incompat);
    throw new PkgError(EnpkgErrorCodes.UNSATISFIABLE, `cannot ${describeJobs(request.jobs)}:\n  ${lines.join('\n  ')}`, {
      hint: 'change one of the requirements above (another version, or without the package that imposes it)',
      details: { explanation: lines },
    });
  }
  const packages: PackageInfo[] = [];
  const names = problem.pool.names;
  for (let i = 1; i < names.length; i++) {
    const c = result.choice[i]!;
    if (c >= 0) packages.push(names[i]!.cands[c]!);
  }
  packages.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const finalKeys = new Set(packages.map((p) => p.key));
  const marked = new Set<string>();
  for (const k of problem.marked) if (finalKeys.has(k)) marked.add(k);
  for (const k of problem.installKeys) if (finalKeys.has(k)) marked.add(k);
  const removeReasons = new Map<string, RemoveReason>();
  for (const p of request.installed) {
    if (!finalKeys.has(p.key)) removeReasons.set(p.key, problem.removed.get(p.key) ?? { kind: 'unneeded' });
  }
  return { packages, marked: [...marked].sort(), removeReasons };
}
