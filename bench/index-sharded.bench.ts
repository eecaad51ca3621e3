/**
 * The sharded index at scale: a generated 1,000,000-entry repository (50,000 names x 20 versions,
 * dependencies mostly from a popular core), published with `enpkg repo index --from` (its time and
 * peak RSS reported), served by nginx. Then `enpkg install -n app` (a closure of about 400 names),
 * cold cache, over HTTPS, from the sharded form and, as the baseline in the same run, from the
 * monolithic index of the same repository; then the same install with a warm shard cache, against
 * the same install (warm) on a 10,000-entry repository holding the same closure.
 *
 * Targets: metadata bytes <= 1/30 of the monolithic index; wall time <= 0.1x the monolithic path;
 * peak RSS <= 100 MiB; warm <= 1.2x the 10,000-entry repository. The plans from both forms must be
 * identical (exit 1 otherwise). BENCH_SHARDED_NAMES scales the repository down for a quick look. The
 * repositories are built once into bench/work/index-sharded/data and reused (BENCH_REBUILD=1 builds
 * them again); BENCH_KEEP=1 keeps the last run's caches in bench/work/index-sharded/run.
 */
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startNginx, type Nginx } from '#fixtures';
import { writeKeyPair } from 'enpkg';
import { fmt, isolatedEnv, median, REPO, timedRss, type Run } from './lib/measure.js';
import { closureOf, TARGET, writeUniverse, type UniverseShape } from './lib/sharded-universe.js';

const NAMES = Number(process.env.BENCH_SHARDED_NAMES ?? 50_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const SHAPE: UniverseShape = { names: NAMES, versions: 20, core: 300, targetExtra: 70 };
const WORK = join(REPO, 'bench', 'work', 'index-sharded');
const ENPKG = join(REPO, 'packages', 'enpkg', 'bin', 'enpkg.js');
const MiB = 2 ** 20;
const out = (s: string): boolean => process.stdout.write(`${s}\n`);

const env = isolatedEnv(join(WORK, 'run'));

// The repositories are built once into WORK/data (minutes at full size) and reused while their shape
// and this stamp match; the caches, configurations and prefix of a run live in WORK/run.
const DATA = join(WORK, 'data');
const RUN = join(WORK, 'run');
const www = join(DATA, 'www');
const stampFile = join(DATA, 'built.json');
const stampKey = JSON.stringify({ v: 1, shape: SHAPE });
interface Built {
  readonly key: string;
  readonly entries: number;
  readonly smallEntries: number;
  readonly publicKey: string;
  readonly fromSeconds: number;
  readonly fromRssMiB: number | null;
}
const readBuilt = (): Built | null => {
  try {
    const b = JSON.parse(readFileSync(stampFile, 'utf8')) as Built;
    return b.key === stampKey ? b : null;
  } catch {
    return null;
  }
};
const closure = closureOf(SHAPE);
let built = process.env.BENCH_REBUILD ? null : readBuilt();
if (built) {
  out(
    `reusing ${built.entries} + ${built.smallEntries} entries built earlier in ${DATA} (BENCH_REBUILD=1 rebuilds); ` +
      `the closure of ${TARGET}: ${closure.size} names`,
  );
} else {
  rmSync(WORK, { recursive: true, force: true });
  for (const d of ['big', 'small']) mkdirSync(join(www, d), { recursive: true });
  const t0 = process.hrtime.bigint();
  const bigIndex = join(DATA, 'big.json.zst');
  const entries = await writeUniverse(bigIndex, SHAPE);
  // The small repository: the same closure (identical entries) plus filler names, 10,000 entries in all.
  const filler = new Set<number>();
  for (let i = SHAPE.core + 1; filler.size + closure.size < 10_000 / SHAPE.versions && i < NAMES; i++) if (!closure.has(i)) filler.add(i);
  const smallIndex = join(DATA, 'small.json.zst');
  const smallEntries = await writeUniverse(smallIndex, SHAPE, (i) => closure.has(i) || filler.has(i));
  out(
    `generated ${entries} entries (${NAMES} names; ${fmt(statSync(bigIndex).size / MiB, 1)} MiB of zstd) and ${smallEntries} ` +
      `in ${fmt(Number(process.hrtime.bigint() - t0) / 1e9, 1)} s; the closure of ${TARGET}: ${closure.size} names`,
  );
  const key = writeKeyPair(join(DATA, 'signing.key'));
  const from = (dir: string, index: string): Run =>
    timedRss(process.execPath, [ENPKG, 'repo', 'index', dir, '--from', index, '--sign', key.privateKeyFile, '--name', 'bench', '-q'], {
      env,
    });
  const pub = from(join(www, 'big'), bigIndex);
  from(join(www, 'small'), smallIndex);
  built = { key: stampKey, entries, smallEntries, publicKey: key.publicKey, fromSeconds: pub.seconds, fromRssMiB: pub.rssMiB ?? null };
  writeFileSync(stampFile, JSON.stringify(built));
}
const { publicKey } = built;
out(
  `repo index --from (${built.entries} entries): ${fmt(built.fromSeconds, 1)} s, ` +
    `peak RSS ${built.fromRssMiB === null ? '?' : fmt(built.fromRssMiB, 0)} MiB (measured when built)`,
);
rmSync(RUN, { recursive: true, force: true });
mkdirSync(RUN, { recursive: true });
const size = (p: string): number => statSync(join(www, p)).size;
out(
  `  monolithic index.json.zst ${fmt(size('big/index.json.zst') / MiB, 1)} MiB; ` +
    `root.json.zst ${fmt(size('big/root.json.zst') / MiB, 2)} MiB`,
);

const cleanups: Array<() => unknown> = [];
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => void Promise.all(cleanups.map((fn) => fn())).finally(() => process.exit(130)));
}
let failed = false;
try {
  // /mono/ is the same directory without the sharded form (its root answers 404): the monolithic path.
  const nginx: Nginx = await startNginx(
    { after: (fn) => cleanups.push(fn) },
    {
      root: www,
      server: `location ~ ^/mono/root { return 404; }\n    location /mono/ { alias ${join(www, 'big')}/; }`,
    },
  );
  const config = (name: string, path: string, cache: string): string => {
    const file = join(RUN, `${name}.yaml`);
    writeFileSync(
      file,
      `cache_dir: ${JSON.stringify(join(RUN, cache))}\nnetwork:\n  ca_file: ${JSON.stringify(nginx.caFile)}\n  max_index_size: 4 GiB\n` +
        `repositories:\n  - {url: "${nginx.url(path)}", name: bench, keys: ["${publicKey}"]}\n`,
    );
    return file;
  };
  const prefix = join(RUN, 'prefix');
  const planFile = join(RUN, 'plan.json');
  const install = (cfg: string, cold: string | null): Run & { plan: string; bytes: number } => {
    if (cold) rmSync(join(RUN, cold), { recursive: true, force: true });
    const mark = nginx.requests().length;
    // Through sh, so that GNU time measures enpkg while its JSON goes to a file.
    const args = [ENPKG, 'install', '-n', TARGET, '--json', '--prefix', prefix, '--config', cfg];
    const r = timedRss('/bin/sh', ['-c', `"$0" "$@" > ${JSON.stringify(planFile)}`, process.execPath, ...args], { env });
    const bytes = nginx
      .requests()
      .slice(mark)
      .filter((l) => l.status === 200)
      .reduce((n, l) => n + statSync(join(www, l.uri.replace(/^\/mono\//, '/big/'))).size, 0);
    const j = JSON.parse(readFileSync(planFile, 'utf8')) as { actions: unknown[] };
    return { ...r, plan: JSON.stringify(j.actions), bytes };
  };
  const mono = config('mono', '/mono/', 'cache-mono');
  const sharded = config('sharded', '/big/', 'cache-sharded');
  const small = config('small', '/small/', 'cache-small');

  const monoRuns = Array.from({ length: Math.max(1, RUNS - 1) }, () => install(mono, 'cache-mono'));
  const coldRuns = Array.from({ length: RUNS }, () => install(sharded, 'cache-sharded'));
  const warmRuns = Array.from({ length: RUNS }, () => install(sharded, null));
  install(small, 'cache-small');
  const smallRuns = Array.from({ length: RUNS }, () => install(small, null));

  const m = median(monoRuns.map((r) => r.seconds));
  const c = median(coldRuns.map((r) => r.seconds));
  const w = median(warmRuns.map((r) => r.seconds));
  const s = median(smallRuns.map((r) => r.seconds));
  const coldRss = Math.max(...coldRuns.map((r) => r.rssMiB ?? 0));
  const warmRss = Math.max(...warmRuns.map((r) => r.rssMiB ?? 0));
  const rss = Math.max(coldRss, warmRss);
  const monoRss = Math.max(...monoRuns.map((r) => r.rssMiB ?? 0));
  const smallRss = Math.max(...smallRuns.map((r) => r.rssMiB ?? 0));
  const plans = new Set([...monoRuns, ...coldRuns, ...warmRuns, ...smallRuns].map((r) => r.plan));
  const actions = (JSON.parse(coldRuns[0]!.plan) as unknown[]).length;
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  out(`\nenpkg install -n ${TARGET} (${actions} packages to install; median of ${RUNS}, each a fresh process; peak RSS the largest):`);
  out(
    `  monolithic, cold cache      ${fmt(m)} s   ${fmt(monoRuns[0]!.bytes / MiB, 1)} MiB of metadata` +
      `   peak RSS ${fmt(monoRss, 0)} MiB   (baseline, median of ${monoRuns.length})`,
  );
  out(`  sharded, cold cache         ${fmt(c)} s   ${fmt(coldRuns[0]!.bytes / MiB, 2)} MiB of metadata   peak RSS ${fmt(coldRss, 0)} MiB`);
  out(`  sharded, warm shard cache   ${fmt(w)} s   ${fmt(warmRuns[0]!.bytes / MiB, 3)} MiB fetched   peak RSS ${fmt(warmRss, 0)} MiB`);
  out(`  10,000-entry repository, warm   ${fmt(s)} s   peak RSS ${fmt(smallRss, 0)} MiB`);
  out('targets:');
  const bytesRatio = monoRuns[0]!.bytes / coldRuns[0]!.bytes;
  out(`  metadata bytes 1/${fmt(bytesRatio, 1)} of the monolithic index (target <= 1/30): ${met(bytesRatio >= 30)}`);
  out(`  cold wall time ${fmt(c / m, 3)}x the monolithic path (target <= 0.1x): ${met(c / m <= 0.1)}`);
  out(`  peak RSS of the sharded path ${fmt(rss, 0)} MiB, cold and warm (target <= 100 MiB): ${met(rss <= 100)}`);
  out(`  warm ${fmt(w / s)}x the 10,000-entry repository (target <= 1.2x): ${met(w / s <= 1.2)}`);
  if (plans.size !== 1) {
    failed = true;
    out(`the plans differ between the forms (${plans.size} distinct plans)`);
  } else out('  the plans from both forms are identical');
} finally {
  for (const fn of cleanups.reverse()) await fn();
}
if (!process.env.BENCH_KEEP) rmSync(RUN, { recursive: true, force: true });
process.exitCode = failed ? 1 : 0;
