/**
 * The resolver against brute force on random small universes: a solution is found exactly when one
 * exists, what it returns satisfies every rule, keeps no package nothing needs, removes a marked
 * package only when no solution keeps it, updates a named package as far as any solution allows, and
 * makes the fewest changes to the installed set among the solutions that do all that.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareVersions,
  parseRequirement,
  parseVersion,
  PkgError,
  resolve,
  satisfies,
  type Job,
  type PackageInfo,
  type ResolveRequest,
} from 'enpkg';
import { rng } from './helpers.js';

const NAMES = ['a', 'b', 'c', 'd', 'e'];

function randomRequirement(r: () => number, name: string, versions: string[]): string {
  const v = versions[Math.floor(r() * versions.length)]!;
  const k = r();
  if (k < 0.3) return name;
  if (k < 0.5) return `${name} >= ${v}`;
  if (k < 0.65) return `${name} < ${v}`;
  if (k < 0.8) return `${name} ${v}-1`;
  if (k < 0.9) return `${name} != ${v}`;
  return `${name} ^= ${v}`;
}

function randomCase(seed: number): ResolveRequest {
  const r = rng(seed);
  const versionsOf = new Map<string, string[]>();
  for (const n of NAMES) {
    const count = 1 + Math.floor(r() * 3);
    versionsOf.set(
      n,
      Array.from({ length: count }, (_, i) => `${i + 1}.0`),
    );
  }
  const universe: PackageInfo[] = [];
  for (const n of NAMES) {
    for (const v of versionsOf.get(n)!) {
      const depends: string[] = [];
      for (const m of NAMES) {
        if (m !== n && r() < 0.3) depends.push(randomRequirement(r, m, versionsOf.get(m)!));
      }
      universe.push({ name: n, key: n, version: v, build: 1, depends });
    }
  }
  const installed: PackageInfo[] = [];
  for (const n of NAMES) {
    if (r() < 0.4) {
      const list = universe.filter((p) => p.key === n);
      installed.push(list[Math.floor(r() * list.length)]!);
    }
  }
  const marked = installed.filter(() => r() < 0.6).map((p) => p.key);
  const jobs: Job[] = [];
  const njobs = 1 + Math.floor(r() * 2);
  for (let i = 0; i < njobs; i++) {
    const k = r();
    const n = NAMES[Math.floor(r() * NAMES.length)]!;
    const inst = installed.find((p) => p.key === n);
    if (k < 0.55 || !inst) jobs.push({ kind: 'install', requirement: parseRequirement(randomRequirement(r, n, versionsOf.get(n)!)) });
    else if (k < 0.7) jobs.push({ kind: 'remove', requirement: parseRequirement(n) });
    else if (k < 0.85) jobs.push({ kind: 'update', requirement: parseRequirement(n) });
    else jobs.push({ kind: 'update_all' });
  }
  return { available: universe, installed, marked, jobs };
}

const ver = (p: PackageInfo) => parseVersion(`${p.version}-${p.build}`);
const depKeys = (p: PackageInfo) => p.depends.map((d) => parseRequirement(d));

interface Rules {
  readonly mustHave: Map<string, ReturnType<typeof parseRequirement>[]>;
  readonly forbidden: Set<string>;
  /** Marked installed packages that no job removes: they should stay. */
  readonly wanted: string[];
  /** Names the jobs install or update: the roots, with the marked packages that stay. */
  readonly roots: string[];
}

function rulesOf(req: ResolveRequest): Rules {
  const mustHave = new Map<string, ReturnType<typeof parseRequirement>[]>();
  const need = (key: string, r: ReturnType<typeof parseRequirement>) => mustHave.set(key, [...(mustHave.get(key) ?? []), r]);
  const forbidden = new Set<string>();
  const roots: string[] = [];
  for (const j of req.jobs) {
    if (j.kind === 'install' || j.kind === 'update') {
      need(j.requirement.key, j.requirement);
      roots.push(j.requirement.key);
    }
    if (j.kind === 'remove') forbidden.add(j.requirement.key);
  }
  const wanted = (req.marked ?? []).filter((m) => !forbidden.has(m));
  return { mustHave, forbidden, wanted, roots };
}

function valid(rules: Rules, chosen: Map<string, PackageInfo>): boolean {
  for (const k of rules.forbidden) if (chosen.has(k)) return false;
  for (const [k, reqs] of rules.mustHave) {
    const p = chosen.get(k);
    if (!p || !reqs.every((r) => satisfies(r, ver(p)))) return false;
  }
  for (const p of chosen.values()) {
    for (const d of depKeys(p)) {
      const q = chosen.get(d.key);
      if (!q || !satisfies(d, ver(q))) return false;
    }
  }
  return true;
}

/** Every package is needed: reachable through dependencies from a job's package or a marked one. */
function closed(rules: Rules, chosen: Map<string, PackageInfo>): boolean {
  const reached = new Set<string>();
  const queue = [...rules.roots, ...rules.wanted.filter((k) => chosen.has(k))];
  while (queue.length > 0) {
    const k = queue.pop()!;
    if (reached.has(k) || !chosen.has(k)) continue;
    reached.add(k);
    for (const d of depKeys(chosen.get(k)!)) queue.push(d.key);
  }
  return reached.size === chosen.size;
}

/** Installs, removals and version changes from the installed set to `chosen`. */
function changes(req: ResolveRequest, chosen: Map<string, PackageInfo>): number {
  let n = 0;
  for (const k of NAMES) {
    const before = req.installed.find((p) => p.key === k);
    if (before !== chosen.get(k)) n++;
  }
  return n;
}

/** Every valid installed set (at most one version per name). */
function allSolutions(req: ResolveRequest, rules: Rules): Map<string, PackageInfo>[] {
  const options = NAMES.map((n) => {
    const list: (PackageInfo | null)[] = [null, ...req.available.filter((p) => p.key === n)];
    const inst = req.installed.find((p) => p.key === n);
    if (inst && !list.includes(inst)) list.push(inst);
    return list;
  });
  const out: Map<string, PackageInfo>[] = [];
  const current = new Map<string, PackageInfo>();
  const walk = (i: number): void => {
    if (i === options.length) {
      if (valid(rules, current)) out.push(new Map(current));
      return;
    }
    for (const o of options[i]!) {
      if (o) current.set(NAMES[i]!, o);
      else current.delete(NAMES[i]!);
      walk(i + 1);
    }
    current.delete(NAMES[i]!);
  };
  walk(0);
  return out;
}

test('the resolver follows the policy on 600 random problems, checked by brute force', () => {
  let solved = 0;
  let failed = 0;
  let dropping = 0;
  for (let seed = 1; seed <= 600; seed++) {
    const req = randomCase(seed);
    const rules = rulesOf(req);
    const solutions = allSolutions(req, rules);
    let result: Map<string, PackageInfo> | PkgError;
    try {
      result = new Map(resolve(req).packages.map((p) => [p.key, p]));
    } catch (e) {
      if (!(e instanceof PkgError)) throw e;
      result = e;
    }
    if (result instanceof PkgError) {
      assert.equal(solutions.length, 0, `seed ${seed}: the resolver said "${result.message}" but ${solutions.length} solutions exist`);
      assert.ok(['UNSATISFIABLE', 'PACKAGE_NOT_FOUND', 'NOT_INSTALLED'].includes(result.code), `seed ${seed}: ${result.code}`);
      if (result.code === 'UNSATISFIABLE') assert.doesNotMatch(result.message, /unknown|undefined|internal/);
      failed++;
      continue;
    }
    solved++;
    const got = result;
    assert.ok(valid(rules, got), `seed ${seed}: the solution breaks a rule`);
    assert.ok(closed(rules, got), `seed ${seed}: the solution keeps a package nothing needs`);
    // (b) a marked package is removed only when no solution keeps it with the others that stay.
    const kept = rules.wanted.filter((k) => got.has(k));
    for (const m of rules.wanted.filter((k) => !got.has(k))) {
      assert.ok(!solutions.some((s) => kept.every((k) => s.has(k)) && s.has(m)), `seed ${seed}: marked ${m} could have stayed`);
    }
    if (kept.length < rules.wanted.length) dropping++;
    // (a) a named update reaches the newest version a solution allows; (c) then the fewest changes.
    const sameMarked = solutions.filter((s) => closed(rules, s) && rules.wanted.every((k) => s.has(k) === got.has(k)));
    if (req.jobs.some((j) => j.kind === 'update_all')) continue;
    let pool = sameMarked;
    for (const j of req.jobs) {
      if (j.kind !== 'update') continue;
      const key = j.requirement.key;
      const newest = pool.map((s) => s.get(key)!).sort((a, b) => compareVersions(ver(b), ver(a)))[0]!;
      assert.equal(got.get(key), newest, `seed ${seed}: ${key} should have been updated to ${newest.version}`);
      pool = pool.filter((s) => s.get(key) === newest);
    }
    const fewest = Math.min(...pool.map((s) => changes(req, s)));
    assert.equal(changes(req, got), fewest, `seed ${seed}: ${changes(req, got)} changes where ${fewest} would do`);
  }
  assert.ok(solved > 100 && failed > 50 && dropping > 5, `a useful mix of problems (${solved} solved, ${failed} not, ${dropping} drop)`);
});
