/**
 * A synthetic repository index shaped like a real binary distribution: names built from syllables,
 * a long tail of packages with several versions and builds, dependency lists drawn mostly from a
 * set of popular core libraries (Zipf-like), in every requirement form (legacy `name 1.2`,
 * `name 1.2-1`, operator ranges, bare names), random sha256/md5 (incompressible, like real hashes),
 * sizes, mtimes, summaries, python/platform/arch tags. Deterministic for a seed.
 */
import { createHash } from 'node:crypto';
import type { IndexEntry } from 'enpkg';
import { prng } from '#fixtures';
import { syllableStem } from './names.js';

const rng = prng;

const SUFFIXES = ['', '', '', 'lib', 'py', '_tools', '-ext', 'kit', 'io', 'x'];
const WORDS = [
  'fast',
  'array',
  'numerical',
  'image',
  'parser',
  'bindings',
  'for',
  'the',
  'library',
  'toolkit',
  'of',
  'data',
  'plotting',
  'and',
  'HDF5',
  'XML',
  'statistics',
  'signal',
  'processing',
  'client',
];

function name(i: number, r: () => number): string {
  const s = syllableStem(i);
  const suffix = SUFFIXES[Math.floor(r() * SUFFIXES.length)]!.replace('-', '_');
  const upper = r() < 0.03;
  return (upper ? s.toUpperCase() : s) + suffix;
}

interface Pkg {
  name: string;
  versions: string[];
}

function versionsFor(r: () => number): string[] {
  const n = 1 + Math.floor(r() * r() * 24);
  const out: string[] = [];
  let major = Math.floor(r() * 3);
  let minor = Math.floor(r() * 5);
  let patch = 0;
  for (let i = 0; i < n; i++) {
    const x = r();
    if (x < 0.1) major++, (minor = 0), (patch = 0);
    else if (x < 0.5) minor++, (patch = 0);
    else patch++;
    const pre = r() < 0.04 ? (r() < 0.5 ? 'rc1' : 'b2') : '';
    out.push(r() < 0.02 ? `20${10 + major}.${String(minor + 1).padStart(2, '0')}` : `${major}.${minor}.${patch}${pre}`);
  }
  return [...new Set(out)];
}

function requirement(p: Pkg, r: () => number): string {
  const v = p.versions[Math.floor(r() * p.versions.length)]!;
  const x = r();
  if (x < 0.25) return p.name;
  if (x < 0.45) return `${p.name} ${v}`;
  if (x < 0.55) return `${p.name} ${v}-${1 + Math.floor(r() * 3)}`;
  if (x < 0.85) return `${p.name} >= ${v}`;
  const major = Number(v.split('.')[0]) + 1;
  return `${p.name} >= ${v}, < ${major}.0`;
}

function hex(r: () => number, bytes: number): string {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i < bytes; i += 4) b.writeUInt32LE(Math.floor(r() * 2 ** 32) >>> 0, i);
  return b.toString('hex', 0, bytes);
}

/** `count` index entries (at least), deterministic for `seed`. */
export function generateEntries(count: number, seed = 1): IndexEntry[] {
  const r = rng(seed);
  const pkgs: Pkg[] = [];
  const seen = new Set<string>();
  let total = 0;
  for (let i = 0; total < count; i++) {
    const n = name(i, r);
    if (seen.has(n.toLowerCase())) continue;
    seen.add(n.toLowerCase());
    const versions = versionsFor(r);
    pkgs.push({ name: n, versions });
    total += versions.length * 1.25;
  }
  const core = pkgs.slice(0, 60);
  const entries: IndexEntry[] = [];
  for (const [i, p] of pkgs.entries()) {
    for (const version of p.versions) {
      const builds = r() < 0.3 ? 2 : 1;
      for (let build = 1; build <= builds && entries.length < count; build++) {
        const nDeps = i < 60 ? Math.floor(r() * 3) : Math.floor(r() * r() * 14);
        const deps = new Set<string>();
        for (let d = 0; d < nDeps; d++) {
          const pool = r() < 0.7 ? core : pkgs;
          const dep = pool[Math.floor(r() ** 2 * pool.length)]!;
          if (dep !== p) deps.add(requirement(dep, r));
        }
        const python = r() < 0.2 ? null : r() < 0.5 ? '2.7' : '3.11';
        const words = Array.from({ length: 2 + Math.floor(r() * 6) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(' ');
        entries.push({
          name: p.name,
          key: p.name.toLowerCase(),
          version,
          build,
          depends: [...deps],
          python,
          platform: r() < 0.9 ? 'linux2' : null,
          arch: r() < 0.9 ? 'amd64' : null,
          eggName: `${p.name}-${version}-${build}.egg`,
          size: Math.floor(1000 + r() * r() * 50_000_000),
          sha256: hex(r, 32),
          md5: createHash('md5').update(`${p.name}${version}${build}`).digest('hex'),
          mtime: 1_300_000_000 + Math.floor(r() * 400_000_000) + Math.floor(r() * 1000) / 1000,
          summary: words.charAt(0).toUpperCase() + words.slice(1),
          repository: 'bench',
        });
      }
    }
  }
  if (entries.length < count) return generateEntries(Math.ceil(count * (count / entries.length)) + 100, seed).slice(0, count);
  return entries;
}
