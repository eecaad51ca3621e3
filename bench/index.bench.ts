/**
 * The repository index at scale: 100,000 entries (realistic names, versions, dependency lists).
 *
 * Building: serialize + zstd-compress + sign. Loading (read, verify the Ed25519 signature,
 * decompress, parse and validate every entry into the resolver's PackageInfo structure), each load
 * in a fresh process, against the raw baseline of `zstd -d` plus `JSON.parse` of the same file in
 * the same run. Targets: load <= 1.5x the baseline; peak RSS <= 4x the decompressed JSON size.
 *
 * Then `enpkg repo index` on a repository of 10,000 small eggs, and again after adding one egg
 * (incremental: only the new egg is read).
 */
import { spawnSync } from 'node:child_process';
import { writeSmallEgg, writeSmallEggs } from './lib/index-eggs.js';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressIndex, readPrivateKey, serializeIndex, signIndex, writeKeyPair } from 'enpkg';
import { generateEntries } from './lib/index-universe.js';
import { REPO, fmt, median } from './lib/measure.js';

const ENTRIES = Number(process.env.BENCH_INDEX_ENTRIES ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WORK = join(REPO, 'bench', 'work', 'index');
const LOADER = join(REPO, 'bench', 'dist', 'lib', 'index-load.js');
const MiB = 2 ** 20;

interface Load {
  seconds: number;
  rssMiB: number;
  startMiB: number;
  entries: number;
}

function load(mode: string, ...args: string[]): Load {
  const r = spawnSync(process.execPath, [LOADER, mode, ...args], {
    encoding: 'utf8',
    env: { ...process.env, XDG_CACHE_HOME: join(WORK, 'cache') },
  });
  if (r.status !== 0) throw new Error(`${mode} failed (${r.status ?? r.signal}):\n${r.stderr.slice(-2000)}`);
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as Load;
}

rmSync(WORK, { recursive: true, force: true });
mkdirSync(join(WORK, 'repo'), { recursive: true });
const t0 = process.hrtime.bigint();
const entries = generateEntries(ENTRIES, 1);
const tGen = Number(process.hrtime.bigint() - t0) / 1e9;
const deps = entries.reduce((n, e) => n + e.depends.length, 0);
process.stdout.write(
  `generated ${entries.length} entries (${new Set(entries.map((e) => e.key)).size} names, ${deps} requirement strings) in ${fmt(tGen)} s\n`,
);

const keys = writeKeyPair(join(WORK, 'key'));
const key = readPrivateKey(keys.privateKeyFile);
const build: number[] = [];
let json = '';
let bytes: Buffer = Buffer.alloc(0);
for (let i = 0; i < 3; i++) {
  const t = process.hrtime.bigint();
  json = serializeIndex({ schema: 1, repository: 'bench', serial: 1, generated: new Date().toISOString() }, entries);
  bytes = compressIndex(Buffer.from(json));
  signIndex(bytes, key);
  build.push(Number(process.hrtime.bigint() - t) / 1e9);
}
const file = join(WORK, 'repo', 'index.json.zst');
writeFileSync(file, bytes);
writeFileSync(`${file}.sig`, signIndex(bytes, key));
const jsonMiB = Buffer.byteLength(json) / MiB;
process.stdout.write(
  `build (serialize + zstd + sign): ${fmt(median(build))} s   JSON ${fmt(jsonMiB, 1)} MiB -> zstd ${fmt(bytes.length / MiB, 1)} MiB\n`,
);

writeFileSync(
  join(WORK, 'config.yaml'),
  `cache_dir: ${JSON.stringify(join(WORK, 'cache'))}\n` +
    `repositories:\n  - {path: ${JSON.stringify(join(WORK, 'repo'))}, name: bench, keys: ["${keys.publicKey}"]}\n`,
);
// Warm-up: page cache for both, and the pipeline's cache filled once.
load('raw', file);
load('load', file, keys.publicKey);
load('pipeline', join(WORK, 'config.yaml'));
const raw: Load[] = [];
const ours: Load[] = [];
const pipeline: Load[] = [];
for (let i = 0; i < RUNS; i++) {
  raw.push(load('raw', file));
  ours.push(load('load', file, keys.publicKey));
  pipeline.push(load('pipeline', join(WORK, 'config.yaml')));
}
for (const l of [...ours, ...pipeline])
  if (l.entries !== entries.length) throw new Error(`loaded ${l.entries} entries, expected ${entries.length}`);
const base = median(raw.map((l) => l.seconds));
const mine = median(ours.map((l) => l.seconds));
const whole = median(pipeline.map((l) => l.seconds));
const rss = Math.max(...ours.map((l) => l.rssMiB));
const fullRss = Math.max(...pipeline.map((l) => l.rssMiB));
const rawRss = Math.max(...raw.map((l) => l.rssMiB));
const growth = Math.max(...ours.map((l) => l.rssMiB - l.startMiB));
const rawGrowth = Math.max(...raw.map((l) => l.rssMiB - l.startMiB));
const out = (s: string): boolean => process.stdout.write(`${s}\n`);
out(`\nload of ${entries.length} entries (median of ${RUNS}, each in a fresh process):`);
out(`  zstd -d + JSON.parse           ${fmt(base)} s   peak RSS ${fmt(rawRss, 0)} MiB   (baseline)`);
out(`  enpkg decode (verify+parse)    ${fmt(mine)} s   ratio ${fmt(mine / base)}x   (target <= 1.50x)`);
out(`  enpkg loadRepositories         ${fmt(whole)} s   ratio ${fmt(whole / base)}x   (whole pipeline: + cache check, serial)`);
out(`  peak RSS (decode)              ${fmt(rss, 0)} MiB = ${fmt(rss / jsonMiB)}x the ${fmt(jsonMiB, 1)} MiB of JSON   (target <= 4.00x)`);
out(`  peak RSS (loadRepositories)    ${fmt(fullRss, 0)} MiB = ${fmt(fullRss / jsonMiB)}x`);
out(
  `  RSS growth during the load      enpkg ${fmt(growth, 0)} MiB = ${fmt(growth / jsonMiB)}x   ` +
    `baseline ${fmt(rawGrowth, 0)} MiB = ${fmt(rawGrowth / jsonMiB)}x   (peak minus Node + modules before the load)`,
);

const EGGS = Number(process.env.BENCH_INDEX_EGGS ?? 10_000);
const eggDir = join(WORK, 'eggs');
mkdirSync(eggDir);
const tw = process.hrtime.bigint();
await writeSmallEggs(eggDir, EGGS);
out(`\nrepo index of ${EGGS} eggs (written in ${fmt(Number(process.hrtime.bigint() - tw) / 1e9, 1)} s):`);
const ENPKG = join(REPO, 'packages', 'enpkg', 'bin', 'enpkg.js');
const reindex = (): { seconds: number; read: number; reused: number } => {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [ENPKG, 'repo', 'index', eggDir, '--json'], { encoding: 'utf8' });
  const seconds = Number(process.hrtime.bigint() - t) / 1e9;
  if (r.status !== 0) throw new Error(`repo index failed:\n${r.stdout}${r.stderr}`);
  const j = JSON.parse(r.stdout) as { read: number; reused: number };
  return { seconds, read: j.read, reused: j.reused };
};
const full = reindex();
out(`  first index               ${fmt(full.seconds)} s   read ${full.read} eggs`);
await writeSmallEgg(eggDir, 'newcomer', '1.0', 1, ['egg1 >= 1.0']);
const inc = reindex();
out(
  `  after adding one egg      ${fmt(inc.seconds)} s   read ${inc.read}, kept ${inc.reused}   ` +
    `(${fmt(full.seconds / inc.seconds, 1)}x faster than the first)`,
);
if (inc.read !== 1) throw new Error(`the incremental index read ${inc.read} eggs, expected 1`);
if (!process.env.BENCH_KEEP) rmSync(WORK, { recursive: true, force: true });
