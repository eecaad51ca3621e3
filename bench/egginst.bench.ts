/**
 * egginst against `unzip -q` on the same archives, in the same run: a 200 MiB egg of 20,000 files of
 * mixed sizes, and an egg holding one 1 GiB file. Prints both times, the ratio and egginst's peak
 * RSS, with fsync (the default) and without (--no-fsync). Targets: <= 1.3x unzip, <= 150 MiB RSS.
 */
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { buildBenchEgg, buildSingleFileEgg } from '#fixtures';
import { REPO, fmt, median, timed, timedRss } from './lib/measure.js';

const WORK = join(REPO, 'bench', 'work');
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const EGGINST = join(REPO, 'packages', 'egginst', 'bin', 'egginst.js');

async function ensure(path: string, build: () => Promise<unknown>): Promise<void> {
  if (existsSync(path)) return;
  const t0 = Date.now();
  await build();
  process.stdout.write(`built ${path} (${fmt(statSync(path).size / 2 ** 20, 0)} MiB) in ${fmt((Date.now() - t0) / 1000, 1)} s\n`);
}

function fresh(dir: string): string {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  return dir;
}

function compare(label: string, egg: string): void {
  const out = join(WORK, 'out');
  const unzipRuns: number[] = [];
  const variants = { fsync: [] as number[], 'no-fsync': [] as number[] };
  const rss: number[] = [];
  // One warm-up of each, so that both read the archive from the page cache.
  timed('unzip', ['-q', egg, '-d', fresh(out)]);
  for (let i = 0; i < RUNS; i++) {
    unzipRuns.push(timed('unzip', ['-q', egg, '-d', fresh(out)]).seconds);
    for (const v of ['fsync', 'no-fsync'] as const) {
      const args = ['--prefix', fresh(out), '--no-scripts', '-q', ...(v === 'no-fsync' ? ['--no-fsync'] : []), egg];
      const r = timedRss(EGGINST, args, { env: { ...process.env, EGGINST_NO_FSYNC: '' } });
      variants[v].push(r.seconds);
      if (r.rssMiB) rss.push(r.rssMiB);
    }
  }
  rmSync(out, { recursive: true, force: true });
  const base = median(unzipRuns);
  process.stdout.write(`\n${label}: ${egg.replace(`${REPO}/`, '')}\n`);
  process.stdout.write(`  unzip -q              ${fmt(base)} s   (baseline)\n`);
  for (const [v, runs] of Object.entries(variants)) {
    const t = median(runs);
    process.stdout.write(`  egginst (${v.padEnd(8)})   ${fmt(t)} s   ratio ${fmt(t / base)}x unzip   (target <= 1.30x)\n`);
  }
  if (rss.length) process.stdout.write(`  egginst peak RSS      ${fmt(Math.max(...rss), 0)} MiB   (target <= 150 MiB)\n`);
  else process.stdout.write(`  egginst peak RSS      not measured: install GNU time (apt-get install time)\n`);
}

mkdirSync(WORK, { recursive: true });
const many = join(WORK, 'bigmix-1.0-1.egg');
const single = join(WORK, 'single-1.0-1.egg');
await ensure(many, () => buildBenchEgg(many, { files: 20_000, totalBytes: 200 * 2 ** 20, seed: 1 }));
await ensure(single, () => buildSingleFileEgg(single, 2 ** 30));
process.stdout.write(`median of ${RUNS} runs each, warm page cache\n`);
compare('20,000 files, 200 MiB', many);
compare('one 1 GiB file', single);
