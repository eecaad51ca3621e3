/**
 * The repository of the install benchmark: `count` packages (default 200) in a dependency DAG, each
 * a generated egg of source-like, machine-code-like and incompressible files (fixtures' bench egg
 * writer), small to medium: most of 20 KiB to 4 MiB uncompressed, a few of 10 to 16 MiB, like the
 * libraries of a scientific distribution. A quarter of the packages also have an older version in
 * the index, which the resolver must pass over. Dependencies point to earlier packages, preferring
 * the first ones (the core libraries everything uses), in the index's requirement forms. Indexed
 * with `enpkg repo index`. Deterministic for a seed; built once into bench/work and reused.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBenchEgg } from '#fixtures';
import { REPO } from './measure.js';
import { prng } from '#fixtures';

export interface BenchPackage {
  readonly name: string;
  readonly version: string;
  readonly depends: readonly string[];
  /** The newest egg: the one an install picks. */
  readonly eggName: string;
  readonly files: number;
  readonly totalBytes: number;
  /** An older version also in the repository (never installed). */
  readonly older: string | null;
}

export interface BenchRepo {
  readonly dir: string;
  readonly packages: readonly BenchPackage[];
  /** Packages nothing depends on: `enpkg install <tops>` installs every package. */
  readonly tops: readonly string[];
}

const rng = prng;

const SYLLABLES = ['ba', 'co', 'di', 'fu', 'ga', 'hi', 'jo', 'ku', 'la', 'me', 'ni', 'po', 'ra', 'si', 'tu', 'vo', 'wa', 'ze'];
const SUFFIXES = ['', '', 'lib', 'py', '_tools', 'kit', 'io'];

function nameOf(i: number, r: () => number): string {
  let s = '';
  let n = i + SYLLABLES.length;
  while (n > 0) {
    s += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  }
  return s + SUFFIXES[Math.floor(r() * SUFFIXES.length)]!;
}

/** The packages (no files written): deterministic for `seed`. */
export function planRepo(count: number, seed: number): { packages: BenchPackage[]; tops: string[] } {
  const r = rng(seed);
  const logUniform = (lo: number, hi: number): number => Math.round(Math.exp(Math.log(lo) + r() * (Math.log(hi) - Math.log(lo))));
  const packages: BenchPackage[] = [];
  const needed = new Set<number>();
  for (let i = 0; i < count; i++) {
    const name = nameOf(i, r);
    const major = Math.floor(r() * 3);
    const version = `${major}.${Math.floor(r() * 12)}.${Math.floor(r() * 5)}`;
    const older = r() < 0.25 ? `${major}.0.0` : null;
    const deps = new Set<number>();
    const n = i === 0 ? 0 : Math.min(i, 1 + Math.floor(r() * r() * 6));
    for (let d = 0; d < n; d++) deps.add(Math.floor(i * r() ** 1.3));
    const depends = [...deps]
      .sort((a, b) => a - b)
      .map((j) => {
        needed.add(j);
        const dep = packages[j]!;
        const x = r();
        return x < 0.4
          ? dep.name
          : x < 0.8
            ? `${dep.name} >= ${dep.older ?? dep.version}`
            : `${dep.name} >= ${dep.version.split('.')[0]}.0, < ${Number(dep.version.split('.')[0]) + 1}.0`;
      });
    const big = r() < 0.02;
    const totalBytes = big ? logUniform(10 << 20, 16 << 20) : logUniform(20 << 10, 4 << 20);
    const files = Math.max(3, Math.min(big ? 1500 : 400, Math.round(totalBytes / (6 << 10))));
    packages.push({
      name,
      version,
      depends,
      eggName: `${name}-${version}-1.egg`,
      files,
      totalBytes,
      older: older === version ? null : older,
    });
  }
  const tops = packages.filter((_, i) => !needed.has(i)).map((p) => p.name);
  return { packages, tops };
}

/** Build (or reuse) the repository in `dir`; `enpkg repo index` writes its index. */
export async function ensureRepo(dir: string, count: number, seed: number, log: (s: string) => void): Promise<BenchRepo> {
  const { packages, tops } = planRepo(count, seed);
  const stamp = join(dir, '.bench-repo.json');
  const want = JSON.stringify({ v: 1, count, seed });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return { dir, packages, tops };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  let next = 0;
  const jobs: Array<() => Promise<unknown>> = [];
  packages.forEach((p, i) => {
    jobs.push(() =>
      buildBenchEgg(join(dir, p.eggName), {
        files: p.files,
        totalBytes: p.totalBytes,
        seed: seed * 10_000 + i,
        packages: [...p.depends],
        root: p.name,
      }),
    );
    if (p.older)
      jobs.push(() =>
        buildBenchEgg(join(dir, `${p.name}-${p.older}-1.egg`), {
          files: 3,
          totalBytes: 4096,
          seed: seed * 10_000 + count + i,
          packages: [...p.depends],
          root: p.name,
        }),
      );
  });
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  const idx = spawnSync(
    process.execPath,
    [join(REPO, 'packages', 'enpkg', 'bin', 'enpkg.js'), 'repo', 'index', dir, '--name', 'bench', '-q'],
    { encoding: 'utf8' },
  );
  if (idx.status !== 0) throw new Error(`enpkg repo index failed:\n${idx.stdout}${idx.stderr}`);
  writeFileSync(stamp, want);
  log(
    `built ${jobs.length} eggs (${packages.length} packages, ${tops.length} of them top-level) ` +
      `in ${((Date.now() - t0) / 1000).toFixed(1)} s`,
  );
  return { dir, packages, tops };
}
