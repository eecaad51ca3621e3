/**
 * `enpkg cache clean`: remove cached eggs (all of them, or all but those in `keep`), their stamps,
 * and the leftovers of interrupted downloads; with `all`, the cached repository indexes too. The
 * accepted index serials (`index/<repo>/serial.json`) are kept: they are rollback protection, not a
 * cache. A `.partial` (or temporary) file whose writer is still running (its pid is in the name) is
 * left alone, so that cleaning does not break another enpkg's download; an egg another process is
 * about to install may still be removed, which makes that install fail safely (nothing changed).
 */
import { readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { EGGS_DIR, PARTIAL_SUFFIX, STAMP_SUFFIX } from './egg-cache.js';

export interface CleanOptions {
  /** Also the cached indexes. */
  readonly all?: boolean;
  /** Digests (sha256, or md5 for legacy eggs) of eggs to keep. */
  readonly keep?: ReadonlySet<string>;
}

export interface CleanResult {
  /** Files removed: eggs, partial leftovers and (with `all`) index files. Stamps are not counted. */
  readonly removed: number;
  /** Bytes freed (stamps included). */
  readonly bytes: number;
  readonly eggs: number;
  readonly partials: number;
  readonly indexFiles: number;
  readonly kept: number;
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw e;
  }
}

/** The writer named in `<file>.<pid>-<hex>.partial` / `.tmp` / `.tmp-<pid>-<hex>` is alive. */
function writerAlive(name: string): boolean {
  const m = /\.(?:tmp-)?(\d+)-[0-9a-f]+(?:\.partial|\.tmp)?$/.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function cleanCache(cacheDir: string, opts: CleanOptions = {}): Promise<CleanResult> {
  const keep = opts.keep ?? new Set<string>();
  const r = { removed: 0, bytes: 0, eggs: 0, partials: 0, indexFiles: 0, kept: 0 };
  const remove = (path: string): number => {
    let size = 0;
    try {
      size = statSync(path).size;
    } catch {
      return 0;
    }
    rmSync(path, { force: true });
    r.bytes += size;
    return 1;
  };
  const pruneDir = (dir: string): void => {
    try {
      rmdirSync(dir);
    } catch {
      // not empty, or gone: fine
    }
  };

  const eggsRoot = join(cacheDir, EGGS_DIR);
  const buckets = list(eggsRoot)
    .filter((n) => /^[0-9a-f]{2}$/.test(n))
    .map((n) => join(eggsRoot, n));
  const md5Root = join(eggsRoot, 'md5');
  buckets.push(
    ...list(md5Root)
      .filter((n) => /^[0-9a-f]{2}$/.test(n))
      .map((n) => join(md5Root, n)),
  );
  for (const bucket of buckets) {
    const names = list(bucket);
    const eggs = new Set(names.filter((n) => /^[0-9a-f]{32}(?:[0-9a-f]{32})?\.egg$/.test(n)));
    for (const name of names) {
      const path = join(bucket, name);
      if (eggs.has(name)) {
        if (keep.has(name.slice(0, -'.egg'.length))) {
          r.kept++;
          continue;
        }
        const n = remove(path);
        r.eggs += n;
        r.removed += n;
      } else if (name.endsWith(PARTIAL_SUFFIX) || /\.tmp$/.test(name)) {
        if (writerAlive(name)) continue;
        const n = remove(path);
        if (name.endsWith(PARTIAL_SUFFIX)) {
          r.partials += n;
          r.removed += n;
        }
      }
    }
    // Stamps last: a kept egg keeps its stamp.
    for (const name of names) {
      if (!name.endsWith(STAMP_SUFFIX)) continue;
      const egg = name.slice(0, -STAMP_SUFFIX.length);
      if (!eggs.has(egg) || !keep.has(egg.slice(0, -'.egg'.length))) remove(join(bucket, name));
    }
    pruneDir(bucket);
  }
  pruneDir(md5Root);
  pruneDir(eggsRoot);

  if (opts.all) {
    const indexRoot = join(cacheDir, 'index');
    const indexFile = /^(?:(?:index\.json(?:\.zst)?|root\.json\.zst)(?:\.sig)?|meta\.json|root\.table)(?:\.tmp-\d+-[0-9a-f]+)?$/;
    for (const repo of list(indexRoot)) {
      const dir = join(indexRoot, repo);
      // packs/ and shards/ hold only cached shards (by content); a repository's directory also its serial.
      const shardDir = repo === 'packs' || repo === 'shards';
      for (const name of list(dir)) {
        if (name === 'serial.json') continue;
        if (/\.tmp-\d+-[0-9a-f]+$/.test(name) && writerAlive(name)) continue;
        if (!shardDir && !indexFile.test(name)) continue;
        const n = remove(join(dir, name));
        r.indexFiles += n;
        r.removed += n;
      }
      pruneDir(dir);
    }
    pruneDir(indexRoot);
  }
  return r;
}
