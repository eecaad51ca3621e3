/**
 * The no-op paths against Node's bare start-up, in the same run: with 1,000 packages installed,
 * `enpkg list` and `enpkg install X` when X is already installed (the index of a local repository of
 * the same 1,000 eggs is loaded, checked and resolved against; nothing changes), each against
 * `node -e 0`. Medians of several runs, each a fresh process. Target: <= 3x Node's start-up.
 *
 * Each is run two ways: from the source checkout (packages/enpkg/bin/enpkg.js, the compiled modules),
 * and as users run a bootstrapped enpkg: the launcher <prefix>/bin/enpkg running the bundle of
 * enpkg's own egg (built from this checkout in the same run).
 *
 * The prefix is built once into bench/work/noop (1,000 small eggs, each depending on an earlier one,
 * installed by one `enpkg install`) and reused. BENCH_NOOP_RUNS (default 11).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBundle, writeSelfEgg } from 'enpkg/tools/build-egg';
import { writeSmallEggs } from './lib/index-eggs.js';
import { REPO, fmt, isolatedEnv, median, timed } from './lib/measure.js';

const COUNT = 1000;
const RUNS = Number(process.env.BENCH_NOOP_RUNS ?? 11);
const WORK = join(REPO, 'bench', 'work', 'noop');
const ENPKG = join(REPO, 'packages', 'enpkg', 'bin', 'enpkg.js');
const repo = join(WORK, 'repo');
const prefix = join(WORK, 'prefix');
const config = join(WORK, 'config.yaml');
const env = isolatedEnv(WORK);
const out = (s: string): boolean => process.stdout.write(`${s}\n`);

function installedCount(): number {
  const r = spawnSync(process.execPath, [ENPKG, 'list', '--json', '--prefix', prefix, '--config', config], { encoding: 'utf8', env });
  if (r.status !== 0) return -1;
  return (JSON.parse(r.stdout) as { packages: unknown[] }).packages.length;
}

if (!existsSync(config) || installedCount() !== COUNT) {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(repo, { recursive: true });
  const t0 = Date.now();
  await writeSmallEggs(repo, COUNT);
  timed(process.execPath, [ENPKG, 'repo', 'index', repo, '--name', 'noop', '-q']);
  writeFileSync(
    config,
    `cache_dir: ${JSON.stringify(join(WORK, 'cache'))}\nrepositories:\n  - path: ${JSON.stringify(repo)}\n    name: noop\n`,
  );
  // egg<i> depends on egg<i/2>: the upper half pulls in everything.
  const tops = Array.from({ length: COUNT / 2 }, (_, i) => `egg${COUNT / 2 + i}`);
  timed(process.execPath, [ENPKG, 'install', ...tops, '-y', '-q', '--prefix', prefix, '--config', config], { env });
  const n = installedCount();
  if (n !== COUNT) throw new Error(`the set-up installed ${n} packages, not ${COUNT}`);
  out(`set up a prefix with ${COUNT} packages in ${fmt((Date.now() - t0) / 1000, 1)} s`);
}

// enpkg as its egg installs it: bundle this checkout, bootstrap it into the prefix (again each run).
const bundle = join(WORK, 'bundle');
await buildBundle(bundle);
const egg = await writeSelfEgg({ bundleDir: bundle, outDir: join(WORK, 'egg'), build: 1 });
rmSync(join(prefix, '.enpkg', 'self'), { recursive: true, force: true });
rmSync(join(prefix, 'bin', 'enpkg'), { force: true });
rmSync(join(prefix, 'bin', 'egginst'), { force: true });
timed(process.execPath, [ENPKG, 'bootstrap', '--prefix', prefix, egg, '-q'], { env });
const LAUNCHER = join(prefix, 'bin', 'enpkg');

const commands: Array<[string, string, string[]]> = [
  ['node -e 0', process.execPath, ['-e', '0']],
  [`enpkg list (${COUNT} installed)`, process.execPath, [ENPKG, 'list', '--prefix', prefix, '--config', config]],
  ['enpkg install X (installed)', process.execPath, [ENPKG, 'install', `egg${COUNT - 1}`, '-y', '--prefix', prefix, '--config', config]],
  ['  the same, bootstrapped: list', LAUNCHER, ['list', '--config', config]],
  ['  the same, bootstrapped: install X', LAUNCHER, ['install', `egg${COUNT - 1}`, '-y', '--config', config]],
];
const runs = new Map<string, number[]>(commands.map(([label]) => [label, []]));
// Warm-up, then the commands interleaved so that drift affects all alike.
for (const [, cmd, args] of commands) timed(cmd, args, { env });
for (let i = 0; i < RUNS; i++) for (const [label, cmd, args] of commands) runs.get(label)!.push(timed(cmd, args, { env }).seconds);
const base = median(runs.get('node -e 0')!);
out(`\nno-op paths (median of ${RUNS} runs, each a fresh process):`);
out(`  ${'node -e 0'.padEnd(34)} ${fmt(base * 1000, 0).padStart(5)} ms   (baseline)`);
for (const [label] of commands.slice(1)) {
  const t = median(runs.get(label)!);
  out(`  ${label.padEnd(34)} ${fmt(t * 1000, 0).padStart(5)} ms   ratio ${fmt(t / base)}x   (target <= 3.00x)`);
}
