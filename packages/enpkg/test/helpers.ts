/** Small builders shared by enpkg's tests. */
import type * as Random from '../../../fixtures/src/random.js';
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

/**
 * The seeded generator the fixtures and the benchmarks draw with (fixtures' mulberry32), loaded from
 * the compiled fixtures: these tests run from dist/test, a level deeper than this file.
 */
export const rng = ((await import(new URL('../../../../fixtures/dist/src/random.js', import.meta.url).href)) as typeof Random).prng;
