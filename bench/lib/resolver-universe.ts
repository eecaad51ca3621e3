/**
 * Deterministic synthetic package universes for the resolver's benchmark and the large scenario.
 *
 * Shaped like a real binary distribution: a few core libraries that almost everything needs, a long
 * tail of applications with many dependencies, and versions built over time: each version requires
 * what was current when it was built (mostly `>=` ranges, some with upper bounds, legacy `name X.Y`
 * pins and exact `name X.Y-B` builds), with a little noise (lagging pins) so that mixing old and new
 * versions conflicts now and then. A few dependency cycles.
 */
import type { PackageInfo } from 'enpkg';
import { prng as rng } from '#fixtures';
import { syllableStem } from './names.js';

/** The seeded generator the universes are drawn with (fixtures' mulberry32). */
export { rng };

export interface UniverseOptions {
  readonly names: number;
  readonly versions: number;
  readonly seed: number;
  /** Dependencies of the most dependent names (default 10). */
  readonly maxDeps?: number;
  /** Share of requirements that lag one version behind what was current (default 0.01). */
  readonly lag?: number;
}

export function packageName(i: number): string {
  const s = syllableStem(i);
  return i % 7 === 0 ? `py${s}` : i % 11 === 0 ? `lib${s}` : s;
}

/** The upstream version of the v-th (0 = oldest) version of a package. */
export function versionText(v: number): string {
  const major = 1 + Math.floor(v / 6);
  const minor = Math.floor(v / 2) % 3;
  return `${major}.${minor}.${v % 2}`;
}

interface Dep {
  readonly target: number;
  readonly kind: number;
}

export function generateUniverse(o: UniverseOptions): PackageInfo[] {
  const r = rng(o.seed);
  const maxDeps = o.maxDeps ?? 10;
  const lag = o.lag ?? 0.01;
  const V = o.versions;
  const names = Array.from({ length: o.names }, (_, i) => packageName(i));
  const builds = names.map(() => Array.from({ length: V }, () => (r() < 0.15 ? 2 : 1)));
  const out: PackageInfo[] = [];
  const core = Math.max(3, Math.floor(o.names / 500));
  for (let i = 0; i < o.names; i++) {
    const name = names[i]!;
    // How many dependencies: core libraries few, applications (high i) more.
    const depth = i / o.names;
    const nDeps = i < core ? Math.floor(r() * 2) : Math.floor(r() * (1 + maxDeps * Math.sqrt(depth))) + (r() < 0.5 ? 1 : 0);
    const deps: Dep[] = [];
    for (let k = 0; k < nDeps && i > 0; k++) {
      // Popular packages are the old ones (low index); a few edges go forward (cycles).
      const target = r() < 0.01 && i + 1 < o.names ? i + 1 + Math.floor(r() * Math.min(50, o.names - i - 1)) : Math.floor(i * r() ** 1.6);
      if (target === i || deps.some((d) => d.target === target)) continue;
      deps.push({ target, kind: r() });
    }
    // Some dependencies appear from a later version on; some are dropped by later versions.
    const since = deps.map(() => (r() < 0.2 ? Math.floor(r() * V) : 0));
    const until = deps.map(() => (r() < 0.1 ? Math.floor(V / 2 + (r() * V) / 2) : V));
    for (let v = 0; v < V; v++) {
      const depends: string[] = [];
      deps.forEach((d, k) => {
        if (v < since[k]! || v >= until[k]!) return;
        // What was current when version v was built; now and then a pin lags one version behind.
        const current = Math.max(0, v - (r() < lag ? 1 : 0));
        depends.push(requirement(names[d.target]!, builds[d.target]!, d.kind, current, r));
      });
      out.push({ name, key: name.toLowerCase(), version: versionText(v), build: builds[i]![v]!, depends });
    }
  }
  return out;
}

function requirement(target: string, builds: readonly number[], kind: number, current: number, r: () => number): string {
  const older = versionText(Math.max(0, current - Math.floor(r() * 5)));
  if (kind < 0.4) return `${target} >= ${older}`;
  if (kind < 0.6) return `${target} >= ${older}, < ${Number(versionText(current).split('.')[0]) + 1}.0`;
  if (kind < 0.75) return target;
  if (kind < 0.85) return `${target} ${versionText(current)}`;
  if (kind < 0.95) return `${target} >= ${versionText(Math.max(0, current - 2))}, <= ${versionText(current)}-${builds[current]}`;
  return `${target} ${versionText(current)}-${builds[current]}`;
}
