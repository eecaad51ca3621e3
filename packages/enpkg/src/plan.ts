/**
 * The plan: from the installed set and the resolver's solution to ordered actions. Dependents are
 * removed before their dependencies (removals first), then installs and updates with each package's
 * dependencies in place before it. Cycles are broken deterministically (by name). Pure data.
 */
import { EnpkgErrorCodes, PkgError } from './errors.js';
import { parseRequirement } from './requirement.js';
import type { Action, ActionJson, PackageInfo, Solution, ChangePlan } from './types.js';
import { packageLabel } from './version.js';

/** Keys in dependencies-first order; ties and cycles resolved by key. */
export function dependencyOrder(packages: readonly PackageInfo[]): string[] {
  const byKey = new Map<string, PackageInfo>();
  for (const p of packages) byKey.set(p.key, p);
  const deps = new Map<string, Set<string>>();
  const dependents = new Map<string, string[]>();
  for (const p of packages) {
    const set = new Set<string>();
    for (const d of p.depends) {
      let key: string;
      try {
        key = parseRequirement(d).key;
      } catch (e) {
        if (e instanceof PkgError) continue;
        throw e;
      }
      if (key !== p.key && byKey.has(key)) set.add(key);
    }
    deps.set(p.key, set);
    for (const k of set) {
      const list = dependents.get(k);
      if (list) list.push(p.key);
      else dependents.set(k, [p.key]);
    }
  }
  const waiting = new Map<string, number>();
  const ready = new KeyHeap();
  for (const [k, set] of deps) {
    waiting.set(k, set.size);
    if (set.size === 0) ready.push(k);
  }
  const order: string[] = [];
  const done = new Set<string>();
  while (order.length < deps.size) {
    let k = ready.pop();
    if (k === undefined) {
      // A cycle: take the remaining package with the fewest unmet dependencies, then by key.
      let best: string | undefined;
      for (const [key, n] of waiting) {
        if (done.has(key)) continue;
        const bn = best === undefined ? Infinity : waiting.get(best)!;
        if (n < bn || (n === bn && key < best!)) best = key;
      }
      k = best!;
    }
    if (done.has(k)) continue;
    done.add(k);
    order.push(k);
    for (const d of dependents.get(k) ?? []) {
      if (done.has(d)) continue;
      const n = waiting.get(d)! - 1;
      waiting.set(d, n);
      if (n === 0) ready.push(d);
    }
  }
  return order;
}

export interface PlanOptions {
  /**
   * Install again, from `available`, packages the solution keeps as they are: those named, or all.
   * Each becomes an `update` action from the installed package to the same version.
   */
  readonly reinstall?: { readonly keys: ReadonlySet<string> | 'all'; readonly available: readonly PackageInfo[] };
}

/** Ordered actions that take `installed` to the solution's package set. */
export function planChanges(installed: readonly PackageInfo[], solution: Solution, opts: PlanOptions = {}): ChangePlan {
  const before = new Map<string, PackageInfo>();
  for (const p of installed) before.set(p.key, p);
  const after = new Map<string, PackageInfo>();
  for (const p of solution.packages) after.set(p.key, p);

  const actions: Action[] = [];
  const unchanged: PackageInfo[] = [];
  for (const key of dependencyOrder(installed).reverse()) {
    if (!after.has(key)) {
      const reason = solution.removeReasons.get(key) ?? { kind: 'unneeded' as const };
      actions.push({ kind: 'remove', package: before.get(key)!, reason });
    }
  }
  for (const key of dependencyOrder(solution.packages)) {
    const to = after.get(key)!;
    const from = before.get(key);
    if (from === undefined) actions.push({ kind: 'install', package: to });
    else if (from.version !== to.version || from.build !== to.build) actions.push({ kind: 'update', from, to });
    else if (opts.reinstall && (opts.reinstall.keys === 'all' || opts.reinstall.keys.has(key)))
      actions.push({ kind: 'update', from, to: reinstallable(from, opts.reinstall.available) });
    else unchanged.push(to);
  }
  unchanged.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { actions, unchanged, ...(solution.heldBack?.length ? { heldBack: solution.heldBack } : {}) };
}

function reinstallable(p: PackageInfo, available: readonly PackageInfo[]): PackageInfo {
  const entry = available.find((a) => a.key === p.key && a.version === p.version && a.build === p.build);
  if (!entry) {
    throw new PkgError(EnpkgErrorCodes.PACKAGE_NOT_FOUND, `${packageLabel(p)} cannot be reinstalled: no repository has it`, {
      hint: 'add the repository it came from (--repo), or leave out --force',
      details: { package: packageLabel(p) },
    });
  }
  return entry;
}

/** The `--json` form: `{"actions": [...]}` in execution order. */
export function planToJson(t: ChangePlan): { actions: ActionJson[] } {
  return {
    actions: t.actions.map((a): ActionJson => {
      switch (a.kind) {
        case 'install':
          return { kind: 'install', package: packageLabel(a.package), ...from(a.package) };
        case 'remove':
          return { kind: 'remove', package: packageLabel(a.package) };
        default:
          return { kind: 'update', from: packageLabel(a.from), to: packageLabel(a.to), ...from(a.to) };
      }
    }),
  };
}

const from = (p: PackageInfo): { repository?: string } => (p.repository === undefined ? {} : { repository: p.repository });

/**
 * The repositories a plan's installs and updates come from, in first-use order. Plan text names
 * them on each line only when there are several (with one, it is the only place anything comes from).
 */
export function planRepositories(t: ChangePlan): string[] {
  const names = new Set<string>();
  for (const a of t.actions) {
    const target = a.kind === 'install' ? a.package : a.kind === 'update' ? a.to : null;
    if (target?.repository !== undefined) names.add(target.repository);
  }
  return [...names];
}

/** A min-heap of strings. */
class KeyHeap {
  private readonly items: string[] = [];

  push(k: string): void {
    const a = this.items;
    a.push(k);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! <= a[i]!) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  pop(): string | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0];
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]! < a[m]!) m = l;
        if (r < a.length && a[r]! < a[m]!) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
