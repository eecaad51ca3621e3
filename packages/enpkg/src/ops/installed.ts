/**
 * What is installed: list, history, verify, mark. Each opens a session (so a crash is recovered
 * and plain egginst's changes are noticed first) and returns plain data.
 */
import { existsSync } from 'node:fs';
import { verifyInstalled, type VerifyResult } from 'egginst/core';
import { type EntryProblem, referencesOf } from 'egginst';
import { checkStoreEntries, storeDir } from '../store.js';
import { ErrorCodes, PkgError } from '../errors.js';
import type { InstalledRow, Revision } from '../state/db.js';
import { compileSearchPattern } from '../repo/query.js';
import { withSession } from './common.js';
import type { OperationOptions } from './types.js';

export interface Installed {
  readonly prefix: string;
  readonly packages: readonly InstalledRow[];
}

/** The installed packages; with `pattern` (a case-insensitive regular expression), those whose names match. */
export function listPackages(opts: OperationOptions & { readonly pattern?: string }): Promise<Installed> {
  const re = compileSearchPattern(opts.pattern);
  return withSession(opts, (s) => ({ prefix: s.prefix, packages: s.state.installed().filter((r) => re === null || re.test(r.name)) }));
}

export function history(opts: OperationOptions): Promise<{ readonly prefix: string; readonly revisions: readonly Revision[] }> {
  return withSession(opts, (s) => ({ prefix: s.prefix, revisions: s.state.revisions() }));
}

export interface StoreVerifyResult {
  /** The egg's sha256: the entry's name. */
  readonly sha256: string;
  readonly dir: string;
  /** The packages of this prefix installed from it. */
  readonly keys: readonly string[];
  readonly problems: readonly EntryProblem[];
}

export interface VerifyOutcome {
  readonly results: readonly VerifyResult[];
  /** The store entries the packages were installed from (those the store holds). */
  readonly store: readonly StoreVerifyResult[];
  /** With repair: the entries rebuilt, and the prefixes whose packages were installed again from them. */
  readonly repaired?: { readonly entries: readonly string[]; readonly prefixes: readonly { prefix: string; keys: string[] }[] };
}

/**
 * The named packages' files (all packages' without names) against their records, and the store
 * entries they came from against their manifests. With `repair`: every damaged entry is rebuilt
 * from its cached egg, then every package with a problem (here, and in each other prefix that uses a
 * rebuilt entry) is installed again from the store, as one transaction per prefix.
 */
export function verify(opts: OperationOptions & { readonly names: readonly string[]; readonly repair?: boolean }): Promise<VerifyOutcome> {
  return withSession(opts, async (s) => {
    const check = (): { results: VerifyResult[]; store: StoreVerifyResult[] } => {
      const rows = opts.names.length ? opts.names.map((n) => s.state.get(n.toLowerCase()) ?? n.toLowerCase()) : s.state.installed();
      const results = rows.map((r) => verifyInstalled(s.prefix, typeof r === 'string' ? r : r.key));
      const installed = rows.filter((r): r is InstalledRow => typeof r !== 'string');
      const store = checkStoreEntries(
        s.config.cacheDir,
        installed.flatMap((r) => (r.sha256 ? [r.sha256] : [])),
      ).map((c) => ({ ...c, keys: installed.filter((r) => r.sha256 === c.sha256).map((r) => r.key) }));
      return { results, store };
    };
    const first = check();
    if (!opts.repair) return first;
    const damaged = first.store.filter((c) => c.problems.length > 0);
    const keys = new Set([...first.results.filter((r) => r.problems.length > 0).map((r) => r.key), ...damaged.flatMap((c) => c.keys)]);
    if (keys.size === 0) return { ...first, repaired: { entries: [], prefixes: [] } };
    const { repairEntries, reinstall } = await import('./repair.js');
    await repairEntries(s, damaged);
    const prefixes = [{ prefix: s.prefix, keys: await reinstall(s, opts, keys) }];
    for (const other of new Set(damaged.flatMap((c) => referencesOf(storeDir(s.config.cacheDir), c.sha256)))) {
      if (other === s.prefix || !existsSync(other)) continue;
      const shas = new Set(damaged.map((c) => c.sha256));
      const done = await withSession({ ...opts, config: { ...opts.config, prefix: other }, session: undefined }, (o) =>
        reinstall(o, opts, new Set(o.state.installed().flatMap((r) => (r.sha256 && shas.has(r.sha256) ? [r.key] : [])))),
      );
      prefixes.push({ prefix: other, keys: done });
    }
    return { ...check(), repaired: { entries: damaged.map((c) => c.sha256), prefixes } };
  });
}

export interface MarkResult {
  readonly marked: readonly { readonly key: string; readonly marked: boolean }[];
}

/** Asked for (`manual: true`: kept) or only a dependency (removed when nothing needs it). */
export function mark(opts: OperationOptions & { readonly names: readonly string[]; readonly manual: boolean }): Promise<MarkResult> {
  return withSession(opts, (s) => {
    const marks = opts.names.map((n) => {
      const row = s.state.get(n.toLowerCase());
      if (!row) throw new PkgError(ErrorCodes.NOT_INSTALLED, `${n} is not installed in ${s.prefix}`, { details: { package: n } });
      return { key: row.key, marked: opts.manual };
    });
    s.state.setMarked(marks);
    return { marked: marks };
  });
}
