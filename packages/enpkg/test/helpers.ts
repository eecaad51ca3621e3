/** Small builders shared by enpkg's tests. */
import { parsePackageString, parseRequirement, type Job, type PackageInfo, type ResolveRequest } from 'enpkg';

export const pkgs = (...specs: string[]): PackageInfo[] => specs.map(parsePackageString);

export const install = (r: string): Job => ({ kind: 'install', requirement: parseRequirement(r, { commandLine: true }) });
export const remove = (r: string): Job => ({ kind: 'remove', requirement: parseRequirement(r, { commandLine: true }) });
export const update = (r: string): Job => ({ kind: 'update', requirement: parseRequirement(r, { commandLine: true }) });
export const updateAll: Job = { kind: 'update_all' };

/** A request whose installed packages are looked up (by "name version-build") in `available`. */
export function request(available: PackageInfo[], opts: { installed?: string[]; marked?: string[]; jobs: Job[] }): ResolveRequest {
  const installed = (opts.installed ?? []).map((s) => {
    const [name, v] = s.split(' ');
    const found = available.find((p) => p.key === name!.toLowerCase() && `${p.version}-${p.build}` === v);
    if (!found) throw new Error(`test setup: ${s} is not in the universe`);
    return found;
  });
  return { available, installed, jobs: opts.jobs, ...(opts.marked ? { marked: opts.marked } : {}) };
}

export const labels = (ps: readonly PackageInfo[]): string[] => ps.map((p) => `${p.name} ${p.version}-${p.build}`);

/** A deterministic pseudo-random generator (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
