/**
 * The resolver against brute force on random small universes: a solution is found exactly when one
 * exists, what it returns satisfies every rule, and installed marked packages keep their versions
 * whenever some solution keeps them all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequirement, parseVersion, PkgError, resolve, satisfies, type Job, type PackageInfo, type ResolveRequest } from 'enpkg';
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
}

function rulesOf(req: ResolveRequest): Rules {
  const mustHave = new Map<string, ReturnType<typeof parseRequirement>[]>();
  const need = (key: string, r: ReturnType<typeof parseRequirement>) => mustHave.set(key, [...(mustHave.get(key) ?? []), r]);
  const forbidden = new Set<string>();
  for (const j of req.jobs) {
    if (j.kind === 'install' || j.kind === 'update') need(j.requirement.key, j.requirement);
    if (j.kind === 'remove') forbidden.add(j.requirement.key);
  }
  let grew = true;
  while (grew) {
    grew = false;
    for (const p of req.installed) {
      if (!forbidden.has(p.key) && depKeys(p).some((d) => forbidden.has(d.key))) {
        forbidden.add(p.key);
        grew = true;
      }
    }
  }
  for (const m of req.marked ?? []) if (!forbidden.has(m)) need(m, parseRequirement(m));
  return { mustHave, forbidden };
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

test('the resolver finds a solution exactly when one exists, and it is valid (600 random problems)', () => {
  let solved = 0;
  let failed = 0;
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
    assert.ok(valid(rules, result), `seed ${seed}: the solution breaks a rule`);
    // Marked installed packages keep their versions when some solution keeps them all.
    const keep = (req.marked ?? []).filter((k) => !rules.forbidden.has(k)).map((k) => req.installed.find((p) => p.key === k)!);
    const hasUpdate = req.jobs.some((j) => j.kind !== 'install');
    if (!hasUpdate && solutions.some((s) => keep.every((p) => s.get(p.key) === p))) {
      for (const p of keep) assert.equal(result.get(p.key), p, `seed ${seed}: ${p.name} should have kept its version`);
    }
  }
  assert.ok(solved > 100 && failed > 50, `a useful mix of problems (${solved} solved, ${failed} not)`);
});
