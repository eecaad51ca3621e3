/**
 * Deterministic synthetic package universes for the resolver's benchmark and the large scenario.
 *
 * Shaped like a real scientific distribution: a few core libraries that almost everything needs, a
 * long tail of applications with many dependencies, versions whose requirements move forward
 * (newer versions need newer dependencies), mostly `>=` ranges with some upper bounds, legacy
 * `name X.Y` pins and exact builds, and a few dependency cycles.
 */
import type { PackageInfo } from 'enpkg';

export interface UniverseOptions {
  readonly names: number;
  readonly versions: number;
  readonly seed: number;
  /** Dependencies of the most dependent names (default 10). */
  readonly maxDeps?: number;
}

/** mulberry32: a small deterministic generator. */
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

const SYLLABLES = ['ba', 'co', 'di', 'fu', 'ga', 'hi', 'jo', 'ku', 'la', 'me', 'ni', 'po', 'qu', 'ra', 'si', 'tu', 'vo', 'wa', 'xe', 'zy'];

export function packageName(i: number): string {
  let s = '';
  let n = i;
  do {
    s += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
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
  const names = Array.from({ length: o.names }, (_, i) => packageName(i));
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
      const target = r() < 0.01 && i + 1 < o.names ? i + 1 + Math.floor(r() * Math.min(50, o.names - i - 1)) : Math.floor(i * Math.pow(r(), 1.6));
      if (target === i || deps.some((d) => d.target === target)) continue;
      deps.push({ target, kind: r() });
    }
    // Some dependencies appear from a later version on; some are dropped by later versions.
    const since = deps.map(() => (r() < 0.2 ? Math.floor(r() * o.versions) : 0));
    const until = deps.map(() => (r() < 0.1 ? Math.floor(o.versions / 2 + r() * o.versions / 2) : o.versions));
    for (let v = 0; v < o.versions; v++) {
      const depends: string[] = [];
      deps.forEach((d, k) => {
        if (v < since[k]! || v >= until[k]!) return;
        depends.push(requirement(names[d.target]!, d.kind, v, o.versions, r));
      });
      const build = r() < 0.15 ? 2 : 1;
      out.push({ name, key: name.toLowerCase(), version: versionText(v), build, depends });
    }
  }
  return out;
}

function requirement(target: string, kind: number, v: number, versions: number, r: () => number): string {
  // Newer versions need newer dependencies: the lower bound moves from 30% to 80% of the range.
  const lo = Math.min(versions - 1, Math.floor(versions * (0.3 + 0.5 * (v / versions))));
  const jitter = Math.floor(r() * 2);
  const low = versionText(Math.max(0, lo - jitter));
  if (kind < 0.45) return `${target} >= ${low}`;
  if (kind < 0.65) {
    const major = Number(low.split('.')[0]);
    return `${target} >= ${low}, < ${major + 2}.0`;
  }
  if (kind < 0.85) return target;
  if (kind < 0.95) {
    const pin = Math.min(versions - 1, lo + 2 + Math.floor(r() * 3));
    return `${target} >= ${versionText(Math.max(0, pin - 3))}, <= ${versionText(pin)}`;
  }
  // Legacy pins to one upstream version (any build).
  return `${target} ${versionText(Math.min(versions - 1, lo + Math.floor(r() * 4)))}`;
}
