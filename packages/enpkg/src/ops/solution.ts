/**
 * The installed set an operation aims at, as a `Solution` for the planner: from the resolver, from
 * the named packages alone (`--no-deps`), or from a recorded revision (`revert`). Pure functions of
 * their inputs.
 */
import { EnpkgErrorCodes, ErrorCodes, PkgError } from '../errors.js';
import { environmentMismatch } from '../platform.js';
import { satisfies } from '../requirement.js';
import { resolve } from '../resolve/index.js';
import type { Environment, Job, PackageInfo, RemoveReason, Solution } from '../types.js';
import { compareVersions, versionOf } from '../version.js';

export interface SolveInput {
  readonly available: readonly PackageInfo[];
  readonly installed: readonly PackageInfo[];
  /** Keys of the installed packages the user asked for. */
  readonly marked: readonly string[];
  readonly jobs: readonly Job[];
  readonly environment: Environment;
  /** Each named package alone (the newest that fits); nothing else moves. */
  readonly noDeps?: boolean;
  /** Fail when an update target cannot reach its newest version (see ResolveRequest). */
  readonly strict?: boolean;
}

const ver = (p: PackageInfo) => versionOf(p.version, p.build);

export function solve(input: SolveInput): Solution {
  if (!input.noDeps) return resolve(input);
  return solveNamedOnly(input);
}

/** `--no-deps`: install, update or remove just the named packages, checked against the environment. */
function solveNamedOnly(input: SolveInput): Solution {
  const after = new Map(input.installed.map((p) => [p.key, p]));
  const marked = new Set(input.marked);
  const removeReasons = new Map<string, RemoveReason>();
  for (const job of input.jobs) {
    if (job.kind === 'update_all') {
      throw new PkgError(EnpkgErrorCodes.REQUEST_INVALID, 'updating everything without dependencies is not possible', {
        hint: 'name the packages to update, or leave out --no-deps',
      });
    }
    const req = job.requirement;
    if (job.kind === 'remove') {
      if (!after.has(req.key))
        throw new PkgError(ErrorCodes.NOT_INSTALLED, `${req.name} is not installed`, { details: { package: req.name } });
      after.delete(req.key);
      marked.delete(req.key);
      removeReasons.set(req.key, { kind: 'requested' });
      continue;
    }
    const named = input.available.filter((p) => p.key === req.key && satisfies(req, ver(p)));
    const fitting = named.filter((p) => environmentMismatch(p, input.environment) === null);
    const best = fitting.sort((a, b) => compareVersions(ver(b), ver(a)))[0];
    if (!best) {
      const why = named[0] ? environmentMismatch(named[0], input.environment) : null;
      throw new PkgError(EnpkgErrorCodes.PACKAGE_NOT_FOUND, `no package matches ${req.text}${why ? `: ${named[0]!.name} ${why}` : ''}`, {
        hint: 'see what exists with enpkg search',
        details: { requirement: req.text },
      });
    }
    const current = after.get(best.key);
    // An update job keeps what is installed when nothing newer fits.
    if (job.kind === 'update' && current && compareVersions(ver(current), ver(best)) >= 0) continue;
    after.set(best.key, best);
    if (job.kind === 'install') marked.add(best.key);
  }
  const packages = [...after.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { packages, marked: [...marked].filter((k) => after.has(k)), removeReasons };
}

export interface RevertInput {
  /** What is installed now. */
  readonly installed: readonly PackageInfo[];
  /** Keys marked now. */
  readonly marked: readonly string[];
  /** The revision's installed set, each package as the cache, the state or a repository knows it. */
  readonly target: readonly PackageInfo[];
  /** Keys marked in (or, when unknown, installed by) the target revision. */
  readonly targetMarked: ReadonlySet<string>;
}

/**
 * `revert N`: exactly the revision's set. Packages installed now keep their marks; packages the
 * revert brings back get the marks they had (the target's set), never a mark of their own making.
 */
export function revertSolution(input: RevertInput): Solution {
  const now = new Set(input.installed.map((p) => p.key));
  const keys = new Set(input.target.map((p) => p.key));
  const marked = new Set<string>();
  for (const k of input.marked) if (keys.has(k)) marked.add(k);
  for (const k of input.targetMarked) if (keys.has(k) && !now.has(k)) marked.add(k);
  const removeReasons = new Map<string, RemoveReason>();
  for (const p of input.installed) if (!keys.has(p.key)) removeReasons.set(p.key, { kind: 'requested' });
  const packages = [...input.target].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { packages, marked: [...marked], removeReasons };
}
