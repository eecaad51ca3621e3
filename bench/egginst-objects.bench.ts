/**
 * What object-code relocation costs (part of `npm run bench -- egginst`): installing an egg of
 * 2,000 ELF shared libraries whose search path is a `/PLACEHOLD` marker, against the same egg with
 * a plain search path of the same length and against the same bytes without the ELF magic (never
 * parsed), in the same run, runs interleaved. Target: relocation <= 10% of the install's wall time.
 * The machine is shared: the fastest of the runs is compared (the median is printed beside it),
 * since other load only ever adds time.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildObjectCodeEgg, type ObjectCodeVariant } from '#fixtures';
import { bufferReader, openArchive, relocationPatches } from 'egginst';
import { REPO, fmt, median, timed } from './lib/measure.js';

const WORK = join(REPO, 'bench', 'work');
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const FILES = 2000;
const EGGINST = join(REPO, 'packages', 'egginst', 'bin', 'egginst.js');
const VARIANTS: ObjectCodeVariant[] = ['not-object-code', 'plain', 'placeholders'];

mkdirSync(WORK, { recursive: true });
const eggs = new Map<ObjectCodeVariant, string>();
for (const [i, v] of VARIANTS.entries()) {
  const path = join(WORK, `objects${i}-1.0-1.egg`);
  if (!existsSync(path)) await buildObjectCodeEgg(path, FILES, v);
  eggs.set(v, path);
}

const out = join(WORK, 'objects-prefix');
const install = (egg: string, fsync: boolean): number => {
  rmSync(out, { recursive: true, force: true });
  const args = ['--prefix', out, '--no-scripts', '-q', ...(fsync ? [] : ['--no-fsync']), egg];
  return timed(process.execPath, [EGGINST, ...args], { env: { ...process.env, EGGINST_NO_FSYNC: '' } }).seconds;
};

process.stdout.write(`${FILES} ELF shared libraries per egg, fastest (median) of ${RUNS} interleaved runs, warm page cache\n`);
for (const fsync of [false, true]) {
  const times = new Map<ObjectCodeVariant, number[]>(VARIANTS.map((v) => [v, []]));
  for (const v of VARIANTS) install(eggs.get(v)!, fsync);
  for (let r = 0; r < RUNS; r++) for (const v of VARIANTS) times.get(v)!.push(install(eggs.get(v)!, fsync));
  rmSync(out, { recursive: true, force: true });
  const t = (v: ObjectCodeVariant): number => Math.min(...times.get(v)!);
  const line = (label: string, v: ObjectCodeVariant, tail: string): void =>
    void process.stdout.write(`  ${label.padEnd(22)}  ${fmt(t(v))} s (${fmt(median(times.get(v)!))} s)   ${tail}\n`);
  const base = t('plain');
  process.stdout.write(`\n${fsync ? 'with fsync (the default)' : '--no-fsync'}:\n`);
  line('not object code', 'not-object-code', `ratio ${fmt(t('not-object-code') / base)}x`);
  line('plain search paths', 'plain', '(baseline)');
  line('/PLACEHOLD relocated', 'placeholders', `ratio ${fmt(t('placeholders') / base)}x   (target <= 1.10x)`);
  const whole = t('placeholders') / t('not-object-code');
  process.stdout.write(`  relocated vs never parsed: ratio ${fmt(whole)}x (parse + rewrite + hash; target <= 1.10x)\n`);
}

// The relocation work itself, in this process, on the egg's 2,000 members in memory: what staging
// adds between decompressing a member and writing it (the sha256 is computed either way).
{
  const archive = await openArchive(eggs.get('placeholders')!);
  const members = archive.entries.filter((e) => e.name.endsWith('.so')).map((e) => archive.readEntry(e));
  archive.close();
  const ctx = { prefix: out, targets: ['lib'], holds: () => false, eggName: 'objects', entry: 'x' };
  const pass = (): number => {
    const t0 = process.hrtime.bigint();
    // The patches are computed each time and not applied, so that every pass finds the placeholders.
    let patched = 0;
    for (const data of members) patched += relocationPatches(bufferReader(data), ctx).length;
    if (patched !== members.length) throw new Error(`${patched} patches for ${members.length} members`);
    return Number(process.hrtime.bigint() - t0) / 1e9;
  };
  pass();
  const work = Math.min(...Array.from({ length: RUNS }, pass));
  const install = Math.min(...Array.from({ length: 3 }, () => timedInstall()));
  process.stdout.write(`\nrelocating ${members.length} members in memory: ${fmt(work * 1000, 1)} ms, `);
  process.stdout.write(`${fmt((100 * work) / install, 1)}% of the fastest --no-fsync install (${fmt(install)} s; target <= 10%)\n`);
}

function timedInstall(): number {
  return install(eggs.get('placeholders')!, false);
}
