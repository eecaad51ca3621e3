/**
 * A whole install over HTTPS against fetching plus unzipping the same eggs, in the same run.
 *
 * A repository of 200 packages with dependencies (bench/lib/install-repo.ts) is served by nginx over
 * TLS on loopback (throwaway CA). Measured, alternately, each into an empty prefix:
 *   baseline  a bash loop: for each egg, `curl -s --cacert CA -o f URL && unzip -q -o f -d PREFIX`
 *   enpkg     `enpkg install <the top-level packages> -y` with an empty cache: index fetch and
 *             check, resolve, parallel download + sha256 verification, one egginst transaction
 *             (fsync on, the default), the state database
 *   warm      the same again into an empty prefix, the cache (eggs and package store) kept: the index
 *             revalidated, every egg linked from the store (docs/package-store.md)
 * Prints the medians, the ratios and the target (cold <= 1.00x the baseline).
 *
 * BENCH_RUNS (default 3), BENCH_INSTALL_PACKAGES (default 200), BENCH_KEEP=1 keeps bench/work/install.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNginx } from '#fixtures';
import { writeBaseline } from './lib/install-baseline.js';
import { ensureRepo } from './lib/install-repo.js';
import { REPO, fmt, isolatedEnv, median, timed } from './lib/measure.js';

const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const COUNT = Number(process.env.BENCH_INSTALL_PACKAGES ?? 200);
const WORK = join(REPO, 'bench', 'work', 'install');
const ENPKG = join(REPO, 'packages', 'enpkg', 'bin', 'enpkg.js');
const out = (s: string): boolean => process.stdout.write(`${s}\n`);

for (const tool of ['curl', 'unzip', 'nginx', 'openssl']) {
  const found = spawnSync('bash', ['-c', `command -v ${tool} || test -x /usr/sbin/${tool}`], { encoding: 'utf8' });
  if (found.status !== 0) throw new Error(`${tool} is needed by this benchmark (Debian package ${tool})`);
}

const www = join(WORK, 'www');
const repo = await ensureRepo(join(www, 'eggs'), COUNT, 1, out);
const bytes = repo.packages.reduce((n, p) => n + statSync(join(repo.dir, p.eggName)).size, 0);
const unpacked = repo.packages.reduce((n, p) => n + p.totalBytes, 0);
const files = repo.packages.reduce((n, p) => n + p.files, 0);
out(
  `${repo.packages.length} packages to install (${repo.tops.length} asked for, the rest dependencies): ` +
    `${fmt(bytes / 2 ** 20, 1)} MiB of eggs, ${files} files, ${fmt(unpacked / 2 ** 20, 1)} MiB unpacked`,
);

const cleanups: Array<() => unknown> = [];
// Ctrl-C stops nginx too.
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => {
    void Promise.all(cleanups.map((fn) => fn())).finally(() => process.exit(130));
  });
}
try {
  const nginx = await startNginx({ after: (fn) => cleanups.push(fn) }, { root: www });
  const run = join(WORK, 'run');
  rmSync(run, { recursive: true, force: true });
  mkdirSync(run, { recursive: true });
  const script = writeBaseline(
    run,
    nginx.caFile,
    repo.packages.map((p) => nginx.url(`/eggs/${p.eggName}`)),
  );
  const prefix = join(run, 'prefix');
  const cache = join(run, 'cache');
  const config = join(run, 'config.yaml');
  writeFileSync(
    config,
    `cache_dir: ${JSON.stringify(cache)}\nnetwork:\n  ca_file: ${JSON.stringify(nginx.caFile)}\n` +
      `repositories:\n  - url: ${JSON.stringify(nginx.url('/eggs/'))}\n    name: bench\n`,
  );
  const env = isolatedEnv(run);
  // An empty prefix and cache, and nothing of the previous run left to write back: enpkg's fsync
  // would otherwise pay for flushing the baseline's files (and the deletions) too.
  const fresh = (): void => {
    rmSync(prefix, { recursive: true, force: true });
    rmSync(cache, { recursive: true, force: true });
    spawnSync('sync');
  };
  const baseline = (): number => {
    fresh();
    return timed('bash', [script, prefix], { env }).seconds;
  };
  const enpkg = (warm = false): number => {
    if (warm) {
      rmSync(prefix, { recursive: true, force: true });
      spawnSync('sync');
    } else fresh();
    const t = timed(process.execPath, [ENPKG, 'install', ...repo.tops, '-y', '-q', '--prefix', prefix, '--config', config], {
      env,
    }).seconds;
    const list = spawnSync(process.execPath, [ENPKG, 'list', '--json', '--prefix', prefix, '--config', config], { encoding: 'utf8', env });
    const installed = (JSON.parse(list.stdout) as { packages: Array<{ eggName?: string; name: string; version: string; build: number }> })
      .packages;
    const got = installed.map((p) => p.eggName ?? `${p.name}-${p.version}-${p.build}.egg`).sort();
    const want = repo.packages.map((p) => p.eggName).sort();
    if (JSON.stringify(got) !== JSON.stringify(want))
      throw new Error(`enpkg installed ${got.length} packages, not the ${want.length} expected`);
    return t;
  };
  // Warm-up: the eggs in the page cache, nginx and both tools' code paths exercised once.
  baseline();
  enpkg();
  const base: number[] = [];
  const ours: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    base.push(baseline());
    ours.push(enpkg());
    warm.push(enpkg(true));
  }
  const b = median(base);
  const e = median(ours);
  const w = median(warm);
  out(`\ninstall of ${repo.packages.length} packages over HTTPS into an empty prefix (median of ${RUNS}, alternating, warm page cache):`);
  out(`  curl + unzip, one egg after another   ${fmt(b)} s   (baseline; runs: ${base.map((x) => fmt(x)).join(' ')})`);
  out(
    `  enpkg install (empty cache)           ${fmt(e)} s   ratio ${fmt(e / b)}x   ` +
      `(target <= 1.00x; runs: ${ours.map((x) => fmt(x)).join(' ')})`,
  );
  out(`  enpkg install (warm cache and store)  ${fmt(w)} s   ratio ${fmt(w / b)}x   (runs: ${warm.map((x) => fmt(x)).join(' ')})`);
} finally {
  for (const fn of cleanups.reverse()) await fn();
  if (!process.env.BENCH_KEEP) rmSync(join(WORK, 'run'), { recursive: true, force: true });
}
