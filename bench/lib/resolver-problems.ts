/**
 * The resolver benchmark's problems on a generated universe: a fresh install with a large closure,
 * update all over ~500 installed packages, an unsatisfiable request, and random small problems.
 */
import { createRepository, parseRequirement, resolve, type Job, type PackageInfo, type ResolveRequest } from 'enpkg';
import { rng } from './resolver-universe.js';

const install = (text: string): Job => ({ kind: 'install', requirement: parseRequirement(text) });

/** The newest packages by key (the generator emits each name's versions oldest first). */
function newestByKey(universe: readonly PackageInfo[]): Map<string, PackageInfo> {
  const m = new Map<string, PackageInfo>();
  for (const p of universe) m.set(p.key, p);
  return m;
}

/** Names reachable from `key` through the newest versions' requirements. */
export function closureSize(universe: readonly PackageInfo[], key: string): number {
  const newest = newestByKey(universe);
  const seen = new Set([key]);
  const queue = [key];
  while (queue.length) {
    for (const d of newest.get(queue.pop()!)?.depends ?? []) {
      const k = parseRequirement(d).key;
      if (!seen.has(k)) {
        seen.add(k);
        queue.push(k);
      }
    }
  }
  return seen.size - 1;
}

/** The application (among the last names) with the most transitive dependencies. */
export function bigTarget(universe: readonly PackageInfo[], versions: number, candidates = 60): { key: string; closure: number } {
  let best = { key: '', closure: -1 };
  const names = universe.length / versions;
  for (let i = names - 1; i >= names - candidates; i--) {
    const key = universe[i * versions]!.key;
    const closure = closureSize(universe, key);
    if (closure > best.closure) best = { key, closure };
  }
  return best;
}

/**
 * An installed state of at least `count` packages: fresh installs of applications on the universe as
 * it was `age` versions ago, so that update all has work to do.
 */
export function oldInstallation(universe: readonly PackageInfo[], versions: number, age: number, count: number): ResolveRequest {
  const old = universe.filter((_, i) => i % versions < versions - age);
  const repository = createRepository(old);
  const names = universe.length / versions;
  const marked: string[] = [];
  let installed: PackageInfo[] = [];
  const r = rng(99);
  for (let tries = 0; installed.length < count && tries < 400; tries++) {
    const key = universe[Math.floor(names * (0.3 + 0.5 * r())) * versions]!.key;
    if (marked.includes(key)) continue;
    try {
      const s = resolve({ available: old, installed, marked, jobs: [install(key)] }, { repository });
      installed = [...s.packages];
      marked.push(key);
    } catch {
      // this one does not fit with what is installed; take another
    }
  }
  return { available: universe, installed, marked, jobs: [{ kind: 'update_all' }] };
}

/**
 * An unsatisfiable request: the newest versions of two applications, whose dependencies (some
 * levels down) pin a shared library differently. The first such pair among the last names.
 */
export function unsatisfiable(universe: readonly PackageInfo[], versions: number): ResolveRequest | undefined {
  const repository = createRepository(universe);
  const names = universe.length / versions;
  const newest = (i: number): PackageInfo => universe[i * versions + versions - 1]!;
  const exact = (p: PackageInfo): Job => install(`${p.key} == ${p.version}-${p.build}`);
  for (let i = names - 1; i > names - 100; i--) {
    for (let j = i - 1; j > names - 100; j--) {
      const request: ResolveRequest = { available: universe, installed: [], jobs: [exact(newest(i)), exact(newest(j))] };
      try {
        resolve(request, { repository });
      } catch {
        return request;
      }
    }
  }
  return undefined;
}

/** A random small problem (a handful of names and versions, installed packages, mixed jobs). */
export function randomSmallProblem(seed: number): ResolveRequest {
  const r = rng(seed);
  const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].slice(0, 4 + Math.floor(r() * 4));
  const versionsOf = new Map(names.map((n) => [n, Array.from({ length: 1 + Math.floor(r() * 4) }, (_, i) => `${i + 1}.0`)]));
  const requirement = (n: string): string => {
    const vs = versionsOf.get(n)!;
    const v = vs[Math.floor(r() * vs.length)]!;
    const k = r();
    if (k < 0.3) return n;
    if (k < 0.5) return `${n} >= ${v}`;
    if (k < 0.65) return `${n} < ${v}`;
    if (k < 0.8) return `${n} ${v}-1`;
    if (k < 0.9) return `${n} != ${v}`;
    return `${n} ^= ${v}`;
  };
  const universe: PackageInfo[] = [];
  for (const n of names) {
    for (const v of versionsOf.get(n)!) {
      const depends = names.filter((m) => m !== n && r() < 0.3).map(requirement);
      universe.push({ name: n, key: n, version: v, build: 1, depends });
    }
  }
  const installed: PackageInfo[] = [];
  for (const n of names) {
    if (r() < 0.4) {
      const list = universe.filter((p) => p.key === n);
      installed.push(list[Math.floor(r() * list.length)]!);
    }
  }
  const marked = installed.filter(() => r() < 0.6).map((p) => p.key);
  const jobs: Job[] = [];
  for (let i = 1 + Math.floor(r() * 3); i > 0; i--) {
    const n = names[Math.floor(r() * names.length)]!;
    const inst = installed.some((p) => p.key === n);
    const k = r();
    if (k < 0.6 || !inst) jobs.push(install(requirement(n)));
    else if (k < 0.75) jobs.push({ kind: 'remove', requirement: parseRequirement(n) });
    else if (k < 0.9) jobs.push({ kind: 'update', requirement: parseRequirement(n) });
    else jobs.push({ kind: 'update_all' });
  }
  return { available: universe, installed, marked, jobs };
}
