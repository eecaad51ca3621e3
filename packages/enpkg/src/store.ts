/**
 * enpkg's side of the package store (egginst's store.ts; docs/package-store.md): where it is, the
 * references each transaction keeps, which entries `cache clean` may remove, and the rebuild of an
 * entry whose files no longer match its manifest.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  checkEntry,
  dropReferences,
  type EntryProblem,
  fillEntries,
  listStore,
  openArchive,
  readEntry,
  referencesOf,
  removeEntry,
  removeLeftover,
  removeReference,
  removeSpareDirs,
} from 'egginst';
import { openState, statePath } from './state/db.js';

export const STORE_DIR = 'store';

export const storeDir = (cacheDir: string): string => join(cacheDir, STORE_DIR);

/** After a transaction: drop this prefix's reference to every entry it used before and uses no more. */
export function releaseReferences(
  store: string,
  prefix: string,
  before: ReadonlyMap<string, string | null>,
  now: ReadonlySet<string>,
): void {
  const stillUsed = new Set(now);
  const gone = new Set<string>();
  for (const sha of before.values()) if (sha && !stillUsed.has(sha)) gone.add(sha);
  for (const sha of gone) removeReference(store, sha, prefix);
}

/**
 * The prefixes that really use an entry: a reference whose prefix is gone, or whose state no longer
 * has a package installed from that egg, is stale (and dropped). A state that cannot be read counts as
 * using it: cleaning never guesses in favour of removal.
 */
export function liveReferences(store: string, sha256: string, installedOf: (prefix: string) => ReadonlySet<string> | null): string[] {
  const live: string[] = [];
  for (const prefix of referencesOf(store, sha256)) {
    const installed = installedOf(prefix);
    if (installed === null || installed.has(sha256)) live.push(prefix);
    else removeReference(store, sha256, prefix);
  }
  return live;
}

/** The sha256s installed in a prefix (an empty set if it has no state; null if its state cannot be read). */
export function installedDigests(): (prefix: string) => ReadonlySet<string> | null {
  const seen = new Map<string, ReadonlySet<string> | null>();
  return (prefix) => {
    if (seen.has(prefix)) return seen.get(prefix)!;
    let digests: ReadonlySet<string> | null = new Set();
    if (existsSync(statePath(prefix))) {
      try {
        const state = openState(prefix, { busyTimeoutMs: 2000 });
        try {
          digests = new Set(state.installed().flatMap((r) => (r.sha256 ? [r.sha256] : [])));
        } finally {
          state.close();
        }
      } catch {
        digests = null;
      }
    }
    seen.set(prefix, digests);
    return digests;
  };
}

export interface StoreCleanResult {
  /** Entries removed. */
  readonly entries: number;
  /** Entries kept because a prefix uses them. */
  readonly kept: number;
  /** Leftovers of interrupted fills removed. */
  readonly leftovers: number;
}

/** Remove the entries no prefix uses (every entry with `all`), and leftovers of interrupted fills. */
export function cleanStore(cacheDir: string, opts: { readonly all?: boolean } = {}): StoreCleanResult {
  const store = storeDir(cacheDir);
  const { entries, leftovers } = listStore(store);
  const installedOf = installedDigests();
  let removed = 0;
  let kept = 0;
  for (const sha of entries) {
    if (!opts.all && liveReferences(store, sha, installedOf).length > 0) {
      kept++;
      continue;
    }
    // References first: cut short between the two, the entry is left unreferenced for the next clean.
    dropReferences(store, sha);
    removeEntry(store, sha);
    removed++;
  }
  for (const path of leftovers) removeLeftover(path);
  // Spare directories are kept for transactions to reuse (egginst's store.ts): a clean gives them back.
  removeSpareDirs(store);
  return { entries: removed, kept, leftovers: leftovers.length };
}

export interface EntryCheck {
  readonly sha256: string;
  readonly dir: string;
  readonly problems: readonly EntryProblem[];
}

/** Check the store entries of these eggs (those the store holds) against their manifests. */
export function checkStoreEntries(cacheDir: string, digests: Iterable<string>): EntryCheck[] {
  const store = storeDir(cacheDir);
  const checks: EntryCheck[] = [];
  for (const sha of new Set(digests)) {
    const entry = readEntry(store, sha);
    if (entry) checks.push({ sha256: sha, dir: entry.dir, problems: checkEntry(entry) });
  }
  return checks;
}

/** Replace an entry by one extracted again from its egg (verified against the sha256 that names it). */
export async function rebuildEntry(cacheDir: string, sha256: string, eggPath: string, eggName: string): Promise<void> {
  const store = storeDir(cacheDir);
  removeEntry(store, sha256);
  const archive = await openArchive(eggPath);
  try {
    await fillEntries({ store, eggs: [{ sha256, archive, eggName }], durable: true });
  } finally {
    archive.close();
  }
}
