/**
 * The candidates of one solve: per package name, the available packages that fit the environment
 * plus the installed one, newest first; requirement matching as version sets; and each candidate's
 * dependencies as incompatibilities (versions with the same dependency share one, so that
 * explanations speak of "pandas >= 0.15.0-1" rather than of each version).
 */
import { PkgError } from '../errors.js';
import { environmentMismatch } from '../platform.js';
import { combineRequirements, satisfies } from '../requirement.js';
import type { EggVersion, Environment, PackageInfo, Requirement } from '../types.js';
import { compareVersions, parseUpstream } from '../version.js';
import { createIncompat, type Excluded, type Incompat, type NameState, type Term } from './model.js';
import { cachedRequirement, candidatesOf, dependsOf, packageVersion, type Repository } from './repository.js';
import { emptySet, fullSet, has, isEmpty, minus, setFromIndices, setKey, setOf, singleSet, type VSet } from './vset.js';

export const ROOT = 0;
const ROOT_KEY = '\u0000root';

export interface Pool {
  readonly repo: Repository;
  readonly environment: Environment;
  readonly names: NameState[];
  readonly byKey: Map<string, number>;
  /** Installed packages by key. */
  readonly installed: ReadonlyMap<string, PackageInfo>;
  /** Keys whose installed package is to be updated (newest preferred). */
  readonly targets: Set<string>;
  updateAll: boolean;
  readonly upstreams: Map<string, EggVersion>;
}

function newState(
  index: number,
  key: string,
  name: string,
  cands: PackageInfo[],
  versions: EggVersion[],
  ids: number[],
  installed: number,
  excluded: Excluded[],
  popularity: number,
): NameState {
  const n = cands.length;
  return {
    index,
    key,
    name,
    cands,
    versions,
    ids,
    n,
    all: fullSet(n),
    installed,
    excluded,
    target: false,
    cls: 3,
    popularity,
    deps: new Array<Incompat[] | undefined>(n),
    matches: new Map(),
    incompats: [],
    accHas: false,
    accPos: false,
    accSet: emptySet(n),
    decision: -1,
    assigns: [],
    listed: false,
    queued: false,
  };
}

export function createPool(repo: Repository, installed: readonly PackageInfo[], environment: Environment): Pool {
  const byInstalled = new Map<string, PackageInfo>();
  for (const p of installed) byInstalled.set(p.key, p);
  const rootPkg: PackageInfo = { name: 'the request', key: ROOT_KEY, version: '0', build: 0, depends: [] };
  const root = newState(ROOT, ROOT_KEY, 'the request', [rootPkg], [parseUpstream('0')], [-1], -1, [], 0);
  return {
    repo,
    environment,
    names: [root],
    byKey: new Map([[ROOT_KEY, ROOT]]),
    installed: byInstalled,
    targets: new Set(),
    updateAll: false,
    upstreams: new Map(),
  };
}

/** The index of a package name's state, created on first use. */
export function nameIndex(pool: Pool, key: string, displayName = key): number {
  const known = pool.byKey.get(key);
  if (known !== undefined) return known;
  const { repo } = pool;
  const cands: PackageInfo[] = [];
  const versions: EggVersion[] = [];
  const ids: number[] = [];
  const excluded: Excluded[] = [];
  const inst = pool.installed.get(key);
  let instVersion: EggVersion | undefined = inst && packageVersion(inst, pool.upstreams);
  let installedIdx = -1;
  // The installed package is the candidate identical to it (same version, build and dependencies), or
  // a candidate of its own after the repositories' packages of its version (which win on priority).
  for (const id of candidatesOf(repo, key)) {
    const p = repo.packages[id]!;
    const v = repo.versions[id]!;
    if (inst !== undefined && installedIdx < 0) {
      if (p.version === inst.version && p.build === inst.build && (p === inst || sameDepends(p, inst))) {
        installedIdx = cands.length;
        cands.push(inst);
        versions.push(v);
        ids.push(id);
        instVersion = undefined;
        continue;
      }
      if (instVersion !== undefined && compareVersions(instVersion, v) > 0) {
        installedIdx = cands.length;
        cands.push(inst);
        versions.push(instVersion);
        ids.push(-1);
        instVersion = undefined;
      }
    }
    const why = environmentMismatch(p, pool.environment);
    if (why !== null) {
      excluded.push({ package: p, reason: why });
      continue;
    }
    cands.push(p);
    versions.push(v);
    ids.push(id);
  }
  if (inst !== undefined && instVersion !== undefined) {
    installedIdx = cands.length;
    cands.push(inst);
    versions.push(instVersion);
    ids.push(-1);
  }
  const shown = cands[0]?.name ?? excluded[0]?.package.name ?? displayName;
  const index = pool.names.length;
  const s = newState(index, key, shown, cands, versions, ids, installedIdx, excluded, repo.popularity.get(key) ?? 0);
  s.target = installedIdx >= 0 && (pool.updateAll || pool.targets.has(key));
  s.cls = s.target ? 0 : installedIdx >= 0 ? 1 : 3;
  pool.names.push(s);
  pool.byKey.set(key, index);
  return index;
}

/** The candidates of `s` that satisfy `req`. */
export function matchSet(s: NameState, req: Requirement): VSet {
  if (req.constraints.length === 0) return s.all;
  let m = s.matches.get(req.text);
  if (m === undefined) {
    const versions = s.versions;
    m = setOf(s.n, (i) => satisfies(req, versions[i]!));
    s.matches.set(req.text, m);
  }
  return m;
}

function sameDepends(a: PackageInfo, b: PackageInfo): boolean {
  return a.depends.length === b.depends.length && a.depends.every((d, i) => d === b.depends[i]);
}

function candidateDepends(pool: Pool, s: NameState, i: number): readonly (Requirement | PkgError)[] {
  const id = s.ids[i]!;
  if (id >= 0) return dependsOf(pool.repo, id);
  return s.cands[i]!.depends.map((d) => cachedRequirement(pool.repo.requirements, d));
}

interface Group {
  readonly members: number[];
  sameText: boolean;
  readonly req: Requirement;
  readonly target: number;
  readonly set: VSet;
}

/**
 * Versions whose dependencies are built together (and merged when they agree): the newest 3, the
 * next 5, then batches that double. Most solves only ever look at the newest versions.
 */
function batchOf(cand: number): [number, number] {
  if (cand < 3) return [0, 3];
  if (cand < 8) return [3, 8];
  let lo = 8;
  while (cand >= lo * 2) lo *= 2;
  return [lo, lo * 2];
}

/**
 * Build the dependency incompatibilities of the batch of candidates of package `name` that holds
 * `cand` (see batchOf): candidates with the same requirement on a package share
 * one incompatibility. Batches keep a large index cheap: mostly only the newest versions are looked at.
 */
function buildDependencies(pool: Pool, name: number, cand: number): void {
  const s = pool.names[name]!;
  const [from, end] = batchOf(cand);
  const to = Math.min(s.n, end);
  const groups = new Map<string, Group>();
  for (let i = from; i < to; i++) {
    const own: Incompat[] = [];
    s.deps[i] = own;
    const reqs = candidateDepends(pool, s, i);
    if (reqs.length === 0) continue;
    const byKey = new Map<string, Requirement[]>();
    let invalid: PkgError | undefined;
    for (const r of reqs) {
      if (r instanceof PkgError) {
        invalid ??= r;
        continue;
      }
      const list = byKey.get(r.key);
      if (list) list.push(r);
      else byKey.set(r.key, [r]);
    }
    if (invalid !== undefined) {
      const terms: Term[] = [{ name, pos: true, set: singleSet(s.n, i) }];
      own.push(createIncompat(terms, { kind: 'invalid', message: invalid.message }));
      continue;
    }
    for (const [key, list] of byKey) {
      const req = combineRequirements(list);
      const target = nameIndex(pool, key, req.name);
      const set = matchSet(pool.names[target]!, req);
      const gk = `${key}\u0000${setKey(set)}`;
      const g = groups.get(gk);
      if (g) {
        g.members.push(i);
        if (g.req.text !== req.text) g.sameText = false;
      } else {
        groups.set(gk, { members: [i], sameText: true, req, target, set });
      }
    }
  }
  for (const g of groups.values()) {
    const members = g.members;
    let inGroup = setFromIndices(s.n, members);
    let terms: Term[];
    if (g.target === name) {
      inGroup = minus(inGroup, g.set);
      if (isEmpty(inGroup)) continue;
      terms = [{ name, pos: true, set: inGroup }];
    } else if (isEmpty(g.set)) {
      terms = [{ name, pos: true, set: inGroup }];
    } else {
      terms = [
        { name, pos: true, set: inGroup },
        { name: g.target, pos: false, set: g.set },
      ];
    }
    const inc = createIncompat(terms, { kind: 'dependency', requirement: g.req, target: g.target, sameText: g.sameText });
    for (const i of members) if (has(inGroup, i)) s.deps[i]!.push(inc);
  }
}

/** The incompatibilities that express candidate `cand`'s dependencies. */
export function dependencyIncompats(pool: Pool, name: number, cand: number): readonly Incompat[] {
  const s = pool.names[name]!;
  if (s.deps[cand] === undefined) buildDependencies(pool, name, cand);
  return s.deps[cand]!;
}
