/**
 * From a request to the solver's problem: the candidate pool, the root's requirements (jobs, marked
 * packages that must stay in some version, packages to remove) and the order in which the solver
 * makes its choices (the fewest changes are then searched for by the solver; see resolve/index.ts):
 *
 *   0. packages named by update jobs (all installed packages for update_all): newest first;
 *   1. installed packages: keep the installed version unless that is impossible;
 *   2. packages named by install jobs: newest first;
 *   3. everything else, in the order it is discovered: newest first (installed version first).
 */
import { ErrorCodes, EnpkgErrorCodes, PkgError } from '../errors.js';
import { satisfies } from '../requirement.js';
import type { Job, PackageInfo, RemoveReason, ResolveRequest } from '../types.js';
import { packageLabel } from '../version.js';
import { createIncompat, type Incompat, type NameState } from './model.js';
import { createPool, matchSet, nameIndex, ROOT, type Pool } from './pool.js';
import { closestNames } from '../suggest.js';
import { packageVersion, type Repository } from './repository.js';
import { isEmpty, singleSet } from './vset.js';

export interface Problem {
  readonly pool: Pool;
  readonly rootIncompats: readonly Incompat[];
  /** Keys of the installed packages the user asked for. */
  readonly marked: ReadonlySet<string>;
  /** Installed packages that must go, by key. */
  readonly removed: ReadonlyMap<string, RemoveReason>;
  /** Keys named by install jobs. */
  readonly installKeys: readonly string[];
  /** Package indices listed per decision class, in order. */
  readonly seeds: readonly (readonly number[])[];
}

export function describeJob(job: Job): string {
  switch (job.kind) {
    case 'install':
      return `install ${job.requirement.text}`;
    case 'remove':
      return `remove ${job.requirement.text}`;
    case 'update':
      return `update ${job.requirement.text}`;
    case 'update_all':
      return 'update all';
  }
}

/** "install tensorflow and caffe", "remove numpy and install scipy", "update all". */
export function describeJobs(jobs: readonly Job[]): string {
  if (jobs.length === 0) return 'keep the installed packages';
  const byKind = new Map<string, string[]>();
  for (const j of jobs) {
    const verb = j.kind === 'update_all' ? 'update' : j.kind;
    const what = j.kind === 'update_all' ? 'all' : j.requirement.text;
    const list = byKind.get(verb);
    if (list) list.push(what);
    else byKind.set(verb, [what]);
  }
  const join = (xs: readonly string[], sep: string): string =>
    xs.length <= 1 ? xs.join('') : `${xs.slice(0, -1).join(', ')}${sep}${xs[xs.length - 1]}`;
  const phrases = [...byKind].map(([verb, whats]) => `${verb} ${join(whats, byKind.size === 1 ? ' and ' : ', ')}`);
  return join(phrases, ' and ');
}

function versionsList(s: NameState, max = 8): string {
  const labels = s.cands.map((p) => `${p.version}-${p.build}`);
  if (labels.length <= max) return labels.join(', ');
  return `${labels.slice(0, max).join(', ')} and ${labels.length - max} older`;
}

/** The names the repositories offer (as the newest package of each spells it). */
function* offeredNames(repo: Repository): Iterable<string> {
  for (const ids of repo.byKey.values()) yield repo.packages[ids[0]!]!.name;
}

/**
 * "no package named X is available" (with the closest names that exist), or "no version of X
 * matches ..." with what exists.
 */
export function missingText(s: NameState, requirementText: string, repo: Repository): string {
  if (s.n === 0) {
    const excl = s.excluded.slice(0, 3).map((e) => `${packageLabel(e.package)} ${e.reason}`);
    const more = s.excluded.length > 3 ? `, and ${s.excluded.length - 3} more` : '';
    if (excl.length) return `no package named ${s.name} is available for this environment (${excl.join('; ')}${more})`;
    const close = closestNames(s.name, offeredNames(repo));
    const mean = close.length ? `; did you mean ${close.slice(0, -1).join(', ')}${close.length > 1 ? ' or ' : ''}${close.at(-1)}?` : '';
    return `no package named ${s.name} is available${mean}`;
  }
  return `no version of ${s.name} matches ${requirementText} (available: ${versionsList(s)})`;
}

function notFound(s: NameState, requirementText: string, job: Job, repo: Repository): PkgError {
  return new PkgError(EnpkgErrorCodes.PACKAGE_NOT_FOUND, `cannot ${describeJob(job)}: ${missingText(s, requirementText, repo)}`, {
    hint: s.n === 0 ? 'check the name, and the repositories in the configuration' : 'ask for one of the available versions',
    details: { requirement: requirementText },
  });
}

function notInstalled(job: Job, text: string, inst: PackageInfo | undefined, hint: string): PkgError {
  const now = inst ? ` (installed: ${packageLabel(inst)})` : '';
  return new PkgError(ErrorCodes.NOT_INSTALLED, `cannot ${describeJob(job)}: ${text} is not installed${now}`, {
    hint,
    details: { requirement: text },
  });
}

export interface ProblemOptions {
  /** Marked packages that cannot stay: no longer required. */
  readonly dropped?: ReadonlySet<string>;
  /** Packages held at a chosen candidate (update targets once their newest possible version is known). */
  readonly pins?: ReadonlyMap<string, PackageInfo>;
}

export function buildProblem(request: ResolveRequest, repo: Repository, options: ProblemOptions = {}): Problem {
  const seen = new Map<string, PackageInfo>();
  for (const p of request.installed) {
    const other = seen.get(p.key);
    if (other) {
      throw new PkgError(
        EnpkgErrorCodes.REQUEST_INVALID,
        `two versions of ${p.name} are installed: ${packageLabel(other)} and ${packageLabel(p)}`,
        {
          hint: 'at most one version of a package can be installed; remove one of them',
        },
      );
    }
    seen.set(p.key, p);
  }
  const pool = createPool(repo, request.installed, request.environment ?? {});
  for (const p of request.installed) packageVersion(p, pool.upstreams);
  const installed = pool.installed;
  const marked = new Set<string>();
  for (const m of request.marked ?? [...installed.keys()]) {
    const key = m.toLowerCase();
    if (installed.has(key)) marked.add(key);
  }

  for (const job of request.jobs) {
    if (job.kind === 'update_all') pool.updateAll = true;
    else if (job.kind === 'update') pool.targets.add(job.requirement.key);
  }

  const rootIncompats: Incompat[] = [];
  const removed = new Map<string, RemoveReason>();
  const removeCause = new Map<string, Incompat['cause']>();
  const installKeys: string[] = [];
  const seeds: number[][] = [[ROOT], [], [], []];
  const seed = (cls: number, name: number): void => {
    const s = pool.names[name]!;
    if (s.listed) return;
    s.listed = true;
    s.cls = cls;
    seeds[cls]!.push(name);
  };

  request.jobs.forEach((job, index) => {
    if (job.kind === 'update_all') return;
    const req = job.requirement;
    const name = nameIndex(pool, req.key, req.name);
    const s = pool.names[name]!;
    const inst = installed.get(req.key);
    if (job.kind === 'remove') {
      if (!inst) throw notInstalled(job, req.name, undefined, 'nothing to remove');
      if (!satisfies(req, packageVersion(inst, pool.upstreams))) {
        throw notInstalled(job, req.text, inst, `to remove it, ask for "${inst.name}"`);
      }
      removed.set(req.key, { kind: 'requested' });
      removeCause.set(req.key, { kind: 'job', job, index });
      return;
    }
    if (job.kind === 'update' && !inst) {
      throw notInstalled(job, req.name, undefined, `to install it, use install ${req.text}`);
    }
    if (s.n === 0) throw notFound(s, req.text, job, repo);
    const set = matchSet(s, req);
    if (isEmpty(set)) throw notFound(s, req.text, job, repo);
    rootIncompats.push(
      createIncompat(
        [
          { name: ROOT, pos: true, set: singleSet(1, 0) },
          { name, pos: false, set },
        ],
        { kind: 'job', job, index },
      ),
    );
    if (job.kind === 'install') installKeys.push(req.key);
    if (job.kind === 'update') seed(0, name);
  });

  for (const [key, cause] of removeCause) {
    const name = nameIndex(pool, key);
    const s = pool.names[name]!;
    rootIncompats.push(
      createIncompat(
        [
          { name: ROOT, pos: true, set: singleSet(1, 0) },
          { name, pos: true, set: s.all },
        ],
        cause,
      ),
    );
  }
  for (const [key, pinned] of options.pins ?? []) {
    const name = nameIndex(pool, key);
    const s = pool.names[name]!;
    const i = s.cands.indexOf(pinned);
    if (i < 0) continue;
    rootIncompats.push(
      createIncompat(
        [
          { name: ROOT, pos: true, set: singleSet(1, 0) },
          { name, pos: false, set: singleSet(s.n, i) },
        ],
        { kind: 'bound' },
      ),
    );
  }

  const markedKeys = [...marked].filter((k) => !removed.has(k) && !options.dropped?.has(k)).sort();
  for (const key of markedKeys) {
    const name = nameIndex(pool, key);
    const s = pool.names[name]!;
    rootIncompats.push(
      createIncompat(
        [
          { name: ROOT, pos: true, set: singleSet(1, 0) },
          { name, pos: false, set: s.all },
        ],
        { kind: 'marked' },
      ),
    );
    if (s.target) seed(0, name);
  }
  for (const key of markedKeys) seed(1, nameIndex(pool, key));
  for (const key of installKeys) {
    const name = nameIndex(pool, key);
    const s = pool.names[name]!;
    seed(s.installed < 0 ? 2 : s.target ? 0 : 1, name);
  }
  return { pool, rootIncompats, marked, removed, installKeys, seeds };
}
