/**
 * The hard universe (issue 12): 5,000 names x 20 versions, each version with 0-5 dependencies drawn
 * from lower-numbered names, whose ranges follow the depender's version: `dep >= V-k` with an upper
 * bound `< V-k+m` 70% of the time, an exact pin `== V-k` 5% of the time. Deep chains of narrow,
 * shifting windows: conflicts surface far from the decisions that cause them.
 *
 * Solves run in a child process so that one that does not finish is stopped at the time limit.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { PackageInfo } from 'enpkg';
import { packageName, rng } from './resolver-universe.js';

export interface HardOptions {
  readonly names: number;
  readonly versions: number;
  readonly seed: number;
}

const version = (v: number): string => `${v}.0`;

export function generateHardUniverse(o: HardOptions): PackageInfo[] {
  const r = rng(o.seed);
  const out: PackageInfo[] = [];
  for (let i = 0; i < o.names; i++) {
    const name = packageName(i);
    for (let v = 1; v <= o.versions; v++) {
      const depends: string[] = [];
      const count = i === 0 ? 0 : Math.floor(r() * 6);
      const targets = new Set<number>();
      for (let d = 0; d < count; d++) targets.add(Math.floor(r() * i));
      for (const t of targets) {
        const dep = packageName(t);
        const k = Math.floor(r() * 4);
        const m = 1 + Math.floor(r() * 4);
        const lower = Math.max(1, v - k);
        const kind = r();
        if (kind < 0.05) depends.push(`${dep} == ${version(lower)}-1`);
        else if (kind < 0.75) depends.push(`${dep} >= ${version(lower)}, < ${version(Math.min(o.versions + 1, lower + m))}`);
        else depends.push(`${dep} >= ${version(lower)}`);
      }
      out.push({ name, key: name, version: version(v), build: 1, depends });
    }
  }
  return out;
}

export interface TimedSolve {
  /** Seconds, or null when it did not finish within the limit. */
  readonly seconds: number | null;
  readonly ok: boolean;
  readonly decisions: number;
  readonly conflicts: number;
}

/** A fresh install of `root` in a child process (which generates the universe), stopped after `limitSeconds`. */
export function solveWithLimit(universe: HardOptions, root: string, limitSeconds: number): TimedSolve {
  const script = fileURLToPath(new URL('./resolver-hard-worker.js', import.meta.url));
  // Generating and compiling the universe comes before the clock starts: allow time for it.
  const r = spawnSync(process.execPath, [script, JSON.stringify({ universe, root })], {
    encoding: 'utf8',
    timeout: (limitSeconds + 30) * 1000,
    killSignal: 'SIGKILL',
  });
  if (r.signal === 'SIGKILL') return { seconds: null, ok: false, decisions: 0, conflicts: 0 };
  if (r.status !== 0) throw new Error(`the timed solve of ${root} failed: ${r.stderr}`);
  const m = JSON.parse(r.stdout) as TimedSolve & { seconds: number };
  return m.seconds > limitSeconds ? { ...m, seconds: null } : m;
}
