/**
 * Installs from the package store (docs/package-store.md) against their baselines, in the same run.
 *
 * A local repository of 100 packages of 200 files each (about 1 MiB unpacked per package, in 10
 * directories; fixtures' bench egg writer: source-like text, half-zero "binaries", incompressible
 * data), in two versions.
 * Measured, alternately, with files hard-linked from the store (EGGINST_LINK_MODE=hardlink):
 *   cold      `enpkg install` of the 100 packages (version 1) into an empty prefix, empty cache
 *   warm      the same into a second, fresh prefix, the store filled by the cold install
 *   cp -al    of the cold install's prefix (the baseline of warm)
 *   disk      `du` of the two prefixes together (hard links counted once) against the first alone
 *   revert    `enpkg revert 1` after `update --all` moved all 100 packages to version 2: with the store
 *             (every version-1 entry still there) against today's revert, the one the issue set the
 *             target by: enpkg as it was before the store (commit TODAY, built by lib/past-build.ts
 *             into bench/work), which inflates each cached egg again. Shown beside it, the same revert
 *             by this code with `store: false` (the path without the store as it is now, and the
 *             baseline when the old commit cannot be built, e.g. in a checkout without history).
 * Targets: warm <= 0.2x cold, warm <= 2.5x cp -al, the two prefixes <= 1.2x one, revert <= 0.2x today's.
 *
 * Every measured tree (prefix, copy, cache) is new, and all are deleted only at the end (see fresh()).
 * BENCH_RUNS (default 3); bench/work/install-store holds the repository (built once) and the runs.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildBenchEgg } from '#fixtures';
import { REPO, fmt, isolatedEnv, median, timed } from './lib/measure.js';
import { buildPast } from './lib/past-build.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PACKAGES = 100;
const FILES = 200;
const BYTES = 1 << 20;
/** Subdirectories per package: about 20 files a directory, as in the libraries of a distribution. */
const DIRS = 10;
const WORK = join(REPO, 'bench', 'work', 'install-store');
const ENPKG = join(REPO, 'packages', 'enpkg', 'bin', 'enpkg.js');
/** The last commit before the package store: "today's" enpkg of the revert target. */
const TODAY = 'c88c7d6';
const out = (s: string): boolean => process.stdout.write(`${s}\n`);

const names = Array.from({ length: PACKAGES }, (_, i) => `pkg${String(i).padStart(3, '0')}`);
const eggName = (name: string, version: string): string => `${name}-${version}-1.egg`;
const eggs = join(WORK, 'eggs');
/** Version 1 only (for the installs), and versions 1 and 2 (for the update before the revert). */
const repoV1 = join(WORK, 'repo-v1');
const repoV2 = join(WORK, 'repo-v2');

async function ensureRepos(): Promise<void> {
  const stamp = join(WORK, '.bench-repo.json');
  const want = JSON.stringify({ v: 2, PACKAGES, FILES, BYTES, DIRS });
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === want) return;
  for (const d of [eggs, repoV1, repoV2]) {
    rmSync(d, { recursive: true, force: true });
    mkdirSync(d, { recursive: true });
  }
  const t0 = Date.now();
  const jobs = names.flatMap((name, i) =>
    ['1.0', '2.0'].map(
      (version, v) => () =>
        buildBenchEgg(join(eggs, eggName(name, version)), { files: FILES, totalBytes: BYTES, seed: 1 + i * 2 + v, root: name, dirs: DIRS }),
    ),
  );
  let next = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (next < jobs.length) await jobs[next++]!();
    }),
  );
  for (const name of names) {
    linkSync(join(eggs, eggName(name, '1.0')), join(repoV1, eggName(name, '1.0')));
    for (const version of ['1.0', '2.0']) linkSync(join(eggs, eggName(name, version)), join(repoV2, eggName(name, version)));
  }
  for (const dir of [repoV1, repoV2]) {
    const r = spawnSync(process.execPath, [ENPKG, 'repo', 'index', dir, '-q'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`enpkg repo index ${dir} failed:\n${r.stdout}${r.stderr}`);
  }
  writeFileSync(stamp, want);
  out(`built ${jobs.length} eggs in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

await ensureRepos();
const run = join(WORK, 'run');
rmSync(run, { recursive: true, force: true });
mkdirSync(run, { recursive: true });
const withStore = join(run, 'store.yaml');
const withoutStore = join(run, 'no-store.yaml');
/** Both configurations, with `cache` as their cache directory (and so their store). */
const useCache = (cache: string): void => {
  writeFileSync(withStore, `cache_dir: ${JSON.stringify(cache)}\n`);
  writeFileSync(withoutStore, `cache_dir: ${JSON.stringify(cache)}\nstore: false\n`);
};
const env = { ...isolatedEnv(run), EGGINST_LINK_MODE: 'hardlink' };
const enpkg = (prefix: string, config: string, args: string[], bin = ENPKG): number =>
  timed(process.execPath, [bin, ...args, '-y', '-q', '--prefix', prefix, '--config', config], { env }).seconds;
const install = (prefix: string, config = withStore, bin = ENPKG): number =>
  enpkg(prefix, config, ['install', ...names, '--repo', repoV1], bin);
/** Everything written so far on the disk, so that no run pays for flushing another's writes. */
const settle = (): void => void spawnSync('sync');
/**
 * A new directory for each measured tree, none deleted until every figure is taken: after a
 * 20,000-file tree is deleted the filesystem makes directories slower for a while (here, on ext4
 * mounted with `discard`: 3,359 mkdirs took 0.11 s with nothing deleted before them and up to 0.87 s
 * after a few deletions, even after a sync), and whatever ran next, warm install or `cp -al` alike,
 * would be measured paying for an earlier run's deletion.
 */
let trees = 0;
const fresh = (name: string): string => join(run, 'trees', `${name}${trees++}`);

function installed(prefix: string, config: string, bin: string): string {
  const r = spawnSync(process.execPath, [bin, 'list', '--json', '--prefix', prefix, '--config', config], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`enpkg list failed: ${r.stderr}`);
  return (JSON.parse(r.stdout) as { packages: Array<{ name: string; version: string }> }).packages
    .map((p) => `${p.name}-${p.version}`)
    .sort()
    .join(' ');
}
const want = (version: string): string =>
  names
    .map((n) => `${n}-${version}`)
    .sort()
    .join(' ');
/** `prefix` holds the 100 packages at `version`, as the enpkg that made it (with its configuration) lists them. */
function check(prefix: string, version: string, what: string, config = withStore, bin = ENPKG): void {
  if (installed(prefix, config, bin) !== want(version)) throw new Error(`${what}: ${prefix} does not hold the 100 packages at ${version}`);
}
/** Kilobytes used by the trees together, each inode counted once (GNU du). */
function du(...dirs: string[]): number {
  const r = spawnSync('du', ['-s', '-k', '-c', ...dirs], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`du failed: ${r.stderr}`);
  return Number(/^(\d+)\s+total$/m.exec(r.stdout)![1]);
}

const cold: number[] = [];
const warm: number[] = [];
const cpal: number[] = [];
let disk = { one: 0, two: 0, cpal: 0 };
// Warm-up: code paths and the eggs in the page cache.
useCache(fresh('cache'));
install(fresh('warm-up'));
for (let i = 0; i < RUNS; i++) {
  const [a, b, c] = [fresh('a'), fresh('b'), fresh('c')];
  // An empty cache (and store) for the cold install, the store it fills for the warm one.
  useCache(fresh('cache'));
  settle();
  cold.push(install(a));
  check(a, '1.0', 'cold install');
  settle();
  warm.push(install(b));
  check(b, '1.0', 'warm install');
  settle();
  cpal.push(timed('cp', ['-al', a, c]).seconds);
  disk = { one: du(a), two: du(a, b), cpal: du(a, c) };
}

// Revert: 100 packages at version 2 back to version 1, with the store warm, without it, and today's.
const revert = (config: string, bin = ENPKG): number => {
  const p = fresh('r');
  install(p, config, bin);
  enpkg(p, config, ['update', '--all', '--repo', repoV2], bin);
  check(p, '2.0', 'update --all', config, bin);
  settle();
  const t = enpkg(p, config, ['revert', '1'], bin);
  check(p, '1.0', 'revert', config, bin);
  return t;
};
const past = buildPast(TODAY, join(WORK, `enpkg-${TODAY}`));
/** Today's enpkg knows no `store` key: a configuration of its own, with a cache of its own. */
const todayConfig = join(run, 'today.yaml');
writeFileSync(todayConfig, `cache_dir: ${JSON.stringify(fresh('cache-today'))}\n`);
const reverts = { store: [] as number[], none: [] as number[], today: [] as number[] };
for (let i = 0; i < RUNS; i++) {
  if ('enpkg' in past) reverts.today.push(revert(todayConfig, past.enpkg));
  reverts.none.push(revert(withoutStore));
  reverts.store.push(revert(withStore));
}

const runs = (xs: number[]): string => xs.map((x) => fmt(x)).join(' ');
const [mc, mw, mcp, mrs, mrn] = [median(cold), median(warm), median(cpal), median(reverts.store), median(reverts.none)];
out(`\n${PACKAGES} packages x ${FILES} files (${names.length * FILES} files), hard links from the store (median of ${RUNS}):`);
out(`  cold install (empty cache)            ${fmt(mc)} s   (runs: ${runs(cold)})`);
out(`  warm install into a second prefix     ${fmt(mw)} s   ratio ${fmt(mw / mc)}x of cold (target <= 0.20x); runs: ${runs(warm)}`);
out(`  cp -al of the first prefix            ${fmt(mcp)} s   warm is ${fmt(mw / mcp)}x cp -al (target <= 2.50x); runs: ${runs(cpal)}`);
out(
  `  disk: one prefix ${fmt(disk.one / 1024, 1)} MiB, both ${fmt(disk.two / 1024, 1)} MiB   ` +
    `ratio ${fmt(disk.two / disk.one)}x (target <= 1.20x; a prefix and its cp -al copy: ${fmt(disk.cpal / disk.one)}x)`,
);
out(`revert of ${PACKAGES} updated packages:`);
if ('enpkg' in past) {
  const mrt = median(reverts.today);
  out(`  today's enpkg (${TODAY}, no store)    ${fmt(mrt)} s   (baseline; runs: ${runs(reverts.today)})`);
  out(`  this enpkg with store: false          ${fmt(mrn)} s   ${fmt(mrn / mrt)}x today's; runs: ${runs(reverts.none)}`);
  out(
    `  from the store                        ${fmt(mrs)} s   ratio ${fmt(mrs / mrt)}x today's (target <= 0.20x), ` +
      `${fmt(mrs / mrn)}x store: false; runs: ${runs(reverts.store)}`,
  );
} else {
  out(`  (today's enpkg ${TODAY} not built: ${past.unavailable.split('\n')[0]}; baseline: this enpkg with store: false)`);
  out(`  without the store (inflates each egg) ${fmt(mrn)} s   (baseline; runs: ${runs(reverts.none)})`);
  out(`  from the store                        ${fmt(mrs)} s   ratio ${fmt(mrs / mrn)}x (target <= 0.20x); runs: ${runs(reverts.store)}`);
}
rmSync(run, { recursive: true, force: true });
