/**
 * A large repository index for the sharded-index benchmark, written as a stream (a 1,000,000-entry
 * index never sits in memory): NAMES names x VERSIONS versions. Dependencies are drawn mostly from a
 * popular core (CORE names, each depending on a few earlier core names, so the first core name reaches
 * all of it), so that a typical package's closure is tens to hundreds of names; the package `app`
 * depends on the top of the core and on TARGET_EXTRA other packages, for a closure of about 400 names.
 * Hashes are random (incompressible, like real ones). Deterministic.
 */
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { CompressStream } from 'zstd-napi';
import { prng } from '#fixtures';

export interface UniverseShape {
  readonly names: number;
  readonly versions: number;
  readonly core: number;
  readonly targetExtra: number;
}

export const TARGET = 'app';

const nameOf = (i: number): string => (i === 0 ? TARGET : `pkg${i}`);

/** Dependencies (package indices) of package i: the same for every version of it. */
function dependencies(shape: UniverseShape): number[][] {
  const r = prng(7);
  const pick = (lo: number, hi: number): number => lo + Math.floor(r() * (hi - lo));
  const deps: number[][] = [];
  for (let i = 0; i < shape.names; i++) {
    const d = new Set<number>();
    if (i === 0) {
      d.add(1);
      while (d.size < shape.targetExtra + 1) d.add(pick(shape.core + 1, shape.names));
    } else if (i <= shape.core) {
      // Core package i depends on up to three earlier core packages; 1 is the top of the core.
      if (i > 1) d.add(i === 2 ? 1 : pick(1, i));
      for (let k = 0; k < 2 && i > 2; k++) if (r() < 0.6) d.add(pick(1, i));
    } else {
      // Mostly the core (not its top), sometimes one other package.
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) d.add(pick(Math.min(2, shape.core), shape.core + 1));
      if (r() < 0.3) d.add(pick(shape.core + 1, shape.names));
    }
    d.delete(i);
    deps.push([...d]);
  }
  // Make the top of the core reach every core package: each core package is required by a later one
  // or by the top.
  const required = new Set(deps.slice(1, shape.core + 1).flat());
  for (let i = 2; i <= shape.core; i++) if (!required.has(i)) deps[1]!.push(i);
  return deps;
}

/** The names `app` reaches (itself included). */
export function closureOf(shape: UniverseShape, root = 0): Set<number> {
  const deps = dependencies(shape);
  const seen = new Set<number>([root]);
  const todo = [root];
  while (todo.length) for (const d of deps[todo.pop()!]!) if (!seen.has(d) && seen.add(d)) todo.push(d);
  return seen;
}

/**
 * Write the index (our format, zstd) of the packages `keep` accepts (default all) to `file`.
 * Returns the number of entries.
 */
export async function writeUniverse(file: string, shape: UniverseShape, keep: (i: number) => boolean = () => true): Promise<number> {
  const deps = dependencies(shape);
  const r = prng(11);
  const hex = (n: number): string => {
    const h = createHash('sha256');
    h.update(String(r()));
    return h.digest('hex').slice(0, n);
  };
  const out = new CompressStream({ compressionLevel: 3 });
  const done = pipeline(out, createWriteStream(file));
  const write = (s: string): Promise<void> | undefined => (out.write(s) ? undefined : new Promise((res) => out.once('drain', () => res())));
  await write(`{"schema":1,"repository":"bench","serial":1,"generated":"2026-12-01T00:00:00Z","packages":{`);
  let n = 0;
  for (let i = 0; i < shape.names; i++) {
    if (!keep(i)) continue;
    const name = nameOf(i);
    const packages = deps[i]!.map(nameOf);
    const parts: string[] = [];
    for (let v = 0; v < shape.versions; v++) {
      const version = `1.${v}.0`;
      const entry = {
        name,
        version,
        build: 1,
        packages,
        python: null,
        platform: null,
        arch: null,
        size: 10_000 + Math.floor(r() * 1_000_000),
        sha256: hex(64),
        md5: hex(32),
        mtime: 1_700_000_000 + i,
        summary: `the ${name} package, version ${version}`,
      };
      parts.push(`${JSON.stringify(`${name}-${version}-1.egg`)}:${JSON.stringify(entry)}`);
      n++;
    }
    await write(`${n === shape.versions ? '' : ','}${parts.join(',')}`);
  }
  out.end('}}');
  await done;
  return n;
}

export { nameOf };
