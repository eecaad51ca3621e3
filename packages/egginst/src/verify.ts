/**
 * Check an installed package's files against its install record: missing files, changed content
 * (sha256 and size), changed modes, and links that point elsewhere. Reads only; paths from the record
 * are normalised and anything outside the prefix is reported, never opened.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, PkgError } from './errors.js';
import { normalizeRelative } from './paths.js';
import { readRecord } from './record.js';
import { hashFile } from './extract.js';
import type { FileRecord } from './types.js';

export interface VerifyProblem {
  path: string;
  problem: 'missing' | 'changed' | 'mode' | 'type' | 'link' | 'outside';
  detail?: string;
}

export interface VerifyResult {
  key: string;
  checked: number;
  problems: VerifyProblem[];
  /** True when the record is Enstaller's older form: only presence can be checked. */
  legacyRecord: boolean;
}

export function verifyInstalled(prefix: string, key: string): VerifyResult {
  const rec = readRecord(prefix, key.toLowerCase());
  if (!rec) throw new PkgError(ErrorCodes.NOT_INSTALLED, `${key} is not installed in ${prefix}`, { details: { package: key } });
  const problems: VerifyProblem[] = [];
  const records: FileRecord[] = rec.records ?? rec.files.map((f) => ({ path: f, kind: 'file' }));
  let checked = 0;
  for (const r of records) {
    const rel = normalizeRelative(r.path.startsWith(`${rec.prefix}/`) ? r.path.slice(rec.prefix.length + 1) : r.path);
    if (rel === null) {
      problems.push({ path: r.path, problem: 'outside' });
      continue;
    }
    checked++;
    const abs = join(prefix, rel);
    let st;
    try {
      st = lstatSync(abs);
    } catch {
      problems.push({ path: rel, problem: 'missing' });
      continue;
    }
    if (r.kind === 'link') {
      if (!st.isSymbolicLink()) problems.push({ path: rel, problem: 'type', detail: 'expected a symlink' });
      else if (r.target !== undefined && readlinkSync(abs) !== r.target)
        problems.push({ path: rel, problem: 'link', detail: `points to ${readlinkSync(abs)}, not ${r.target}` });
      continue;
    }
    if (!st.isFile()) {
      problems.push({ path: rel, problem: 'type', detail: 'expected a regular file' });
      continue;
    }
    if (r.size !== undefined && st.size !== r.size)
      problems.push({ path: rel, problem: 'changed', detail: `size ${st.size}, recorded ${r.size}` });
    else if (r.sha256 !== undefined && hashFile(abs) !== r.sha256)
      problems.push({ path: rel, problem: 'changed', detail: 'content differs (sha256)' });
    if (r.mode !== undefined && (st.mode & 0o777) !== r.mode)
      problems.push({ path: rel, problem: 'mode', detail: `mode ${(st.mode & 0o777).toString(8)}, recorded ${r.mode.toString(8)}` });
  }
  return { key: rec.key, checked, problems, legacyRecord: rec.records === undefined };
}
