/**
 * What is installed: list, history, verify, mark. Each opens a session (so a crash is recovered
 * and plain egginst's changes are noticed first) and returns plain data.
 */
import { verifyInstalled, type VerifyResult } from 'egginst/core';
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

/** The named packages' files (all packages' without names) against their records. */
export function verify(
  opts: OperationOptions & { readonly names: readonly string[] },
): Promise<{ readonly results: readonly VerifyResult[] }> {
  return withSession(opts, (s) => {
    const keys = opts.names.length ? opts.names.map((n) => n.toLowerCase()) : s.state.installed().map((r) => r.key);
    return { results: keys.map((k) => verifyInstalled(s.prefix, k)) };
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
