/**
 * What object-code relocation costs (part of `npm run bench -- egginst`): installing an egg of
 * 2,000 ELF shared libraries whose search path is a `/PLACEHOLD` marker, against the same egg with
 * a plain search path of the same length and against the same bytes without the ELF magic (never
 * parsed), in the same run, runs interleaved. Target: relocation <= 10% of the install's wall time.
 */
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { buildObjectCodeEgg, type ObjectCodeVariant } from '#fixtures';
import { REPO, fmt, median, timed } from './lib/measure.js';

const WORK = join(REPO, 'bench', 'work');
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
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

process.stdout.write(`${FILES} ELF shared libraries per egg, median of ${RUNS} interleaved runs, warm page cache\n`);
for (const fsync of [false, true]) {
  const times = new Map<ObjectCodeVariant, number[]>(VARIANTS.map((v) => [v, []]));
  for (const v of VARIANTS) install(eggs.get(v)!, fsync);
  for (let r = 0; r < RUNS; r++) for (const v of VARIANTS) times.get(v)!.push(install(eggs.get(v)!, fsync));
  rmSync(out, { recursive: true, force: true });
  const t = (v: ObjectCodeVariant): number => median(times.get(v)!);
  const base = t('plain');
  process.stdout.write(`\n${fsync ? 'with fsync (the default)' : '--no-fsync'}:\n`);
  process.stdout.write(`  not object code         ${fmt(t('not-object-code'))} s   ratio ${fmt(t('not-object-code') / base)}x\n`);
  process.stdout.write(`  plain search paths      ${fmt(base)} s   (baseline)\n`);
  const ratio = t('placeholders') / base;
  process.stdout.write(`  /PLACEHOLD relocated    ${fmt(t('placeholders'))} s   ratio ${fmt(ratio)}x   (target <= 1.10x)\n`);
  const whole = t('placeholders') / t('not-object-code');
  process.stdout.write(`  relocated vs never parsed: ratio ${fmt(whole)}x (parse + rewrite + hash, target <= 1.10x)\n`);
}
