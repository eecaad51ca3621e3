/**
 * `enpkg verify --repair`: rebuild damaged store entries from their cached eggs, and install
 * packages again (from the store) over files that no longer match their records.
 */
import { hashFile } from 'egginst';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import type { ReadyEgg } from '../execute.js';
import type { Session } from '../session.js';
import { rebuildEntry } from '../store.js';
import type { Action, PackageInfo } from '../types.js';
import type { OperationOptions } from './types.js';

/** The cached egg of an installed package, checked against the sha256 it was installed with. */
function cachedEggOf(s: Session, key: string, cachedEgg: (dir: string, sha: string) => string | null): ReadyEgg {
  const row = s.state.get(key)!;
  const path = row.sha256 ? cachedEgg(s.config.cacheDir, row.sha256) : null;
  if (!path || hashFile(path) !== row.sha256) {
    throw new PkgError(EnpkgErrorCodes.EGG_UNAVAILABLE, `cannot repair ${row.name}: its egg ${row.eggName} is not in the cache`, {
      hint: `install it again with enpkg install --force ${row.name} (that downloads it)`,
      details: { package: row.key, egg: row.eggName },
    });
  }
  return { key: row.key, eggName: row.eggName, path, sha256: row.sha256, repository: row.repository };
}

export async function repairEntries(s: Session, damaged: readonly { sha256: string; keys: readonly string[] }[]): Promise<void> {
  const { cachedEgg } = await import('../fetch/index.js');
  // Every egg first: a repair that cannot be done changes nothing.
  const eggs = damaged.map((c) => cachedEggOf(s, c.keys[0]!, cachedEgg));
  for (const egg of eggs) await rebuildEntry(s.config.cacheDir, egg.sha256!, egg.path, egg.eggName);
}

/** Install these packages of the session's prefix again, from the store, as one transaction. */
export async function reinstall(s: Session, opts: OperationOptions, keys: ReadonlySet<string>): Promise<string[]> {
  if (keys.size === 0) return [];
  const { cachedEgg } = await import('../fetch/index.js');
  const eggs = new Map<string, ReadyEgg>();
  const actions: Action[] = [];
  for (const key of [...keys].sort()) {
    const row = s.state.get(key);
    if (!row) continue;
    eggs.set(key, cachedEggOf(s, key, cachedEgg));
    const info: PackageInfo = { name: row.name, key: row.key, version: row.version, build: row.build, depends: row.depends };
    actions.push({ kind: 'update', from: info, to: info });
  }
  const { execute } = await import('../execute.js');
  await execute({
    session: s,
    actions,
    eggs,
    marked: new Set(s.state.installed().flatMap((r) => (r.marked ? [r.key] : []))),
    kind: 'transaction',
    command: opts.command,
    ...(opts.reporter ? { reporter: opts.reporter } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return [...eggs.keys()];
}
