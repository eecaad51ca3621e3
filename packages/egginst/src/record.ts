/**
 * Install records: `<prefix>/EGG-INFO/<key>/egginst.json`. Ours carry per-file sha256, size and mode;
 * Enstaller's older form (file list only, absolute or `./` paths) is read too. Records are hostile
 * input: every path is normalised and anything outside the prefix is rejected, never followed.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { parseEggName } from './eggname.js';
import { ErrorCodes, PkgError } from './errors.js';
import { RECORD_FILE } from './layout.js';
import { RESERVED_DIRS, normalizeRelative } from './paths.js';
import type { FileRecord, InstallRecord, InstalledPackage } from './types.js';

export interface RecordPaths {
  /** Prefix-relative paths the package owns (files and links), normalised. */
  paths: string[];
  /** Recorded paths refused because they lie outside the prefix or are otherwise unsafe. */
  refused: string[];
}

export function recordPath(prefix: string, key: string): string {
  return join(prefix, 'EGG-INFO', key, RECORD_FILE);
}

/** Read the record of an installed package, or null when the package is not installed. */
export function readRecord(prefix: string, key: string): InstallRecord | null {
  const path = recordPath(prefix, key);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return null;
    throw new PkgError(ErrorCodes.IO, `cannot read ${path}: ${(e as Error).message}`, { cause: e });
  }
  return parseRecord(text, path, key);
}

export function parseRecord(text: string, path: string, key: string): InstallRecord {
  const bad = (why: string): never => {
    throw new PkgError(ErrorCodes.RECORD_INVALID, `the install record ${path} is invalid: ${why}`, {
      hint: `reinstall the package, or remove ${path} by hand if the package is gone`,
      details: { path },
    });
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    return bad(`not JSON (${(e as Error).message})`);
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) bad('not a JSON object');
  if (typeof raw.egg_name !== 'string') bad('egg_name is missing');
  if (!Array.isArray(raw.files) || !raw.files.every((f) => typeof f === 'string')) bad('files must be a list of strings');
  const id = parseEggName(raw.egg_name as string);
  const name = typeof raw.name === 'string' ? raw.name : (id?.name ?? key);
  const rec: InstallRecord = {
    egg_name: raw.egg_name as string,
    name,
    key,
    version: typeof raw.version === 'string' ? raw.version : (id?.version ?? ''),
    build: typeof raw.build === 'number' ? raw.build : (id?.build ?? 0),
    files: raw.files as string[],
    installed_size: typeof raw.installed_size === 'number' ? raw.installed_size : 0,
    prefix: typeof raw.prefix === 'string' ? raw.prefix : '',
  };
  if (Array.isArray(raw.records)) {
    rec.records = (raw.records as unknown[]).filter(
      (r): r is FileRecord => !!r && typeof r === 'object' && typeof (r as FileRecord).path === 'string',
    );
  }
  for (const k of ['entry_points', 'links'] as const)
    if (Array.isArray(raw[k])) rec[k] = (raw[k] as unknown[]).filter((x): x is string => typeof x === 'string');
  if (typeof raw.installed_at === 'string') rec.installed_at = raw.installed_at;
  if (raw.spec && typeof raw.spec === 'object') rec.spec = raw.spec as InstallRecord['spec'];
  return rec;
}

/** The prefix-relative paths a record owns. Absolute paths count only if under the record's or this prefix. */
export function ownedPaths(rec: InstallRecord, prefix: string): RecordPaths {
  const paths: string[] = [];
  const refused: string[] = [];
  const roots = [rec.prefix, prefix].filter((r) => r.startsWith('/')).map((r) => `${r.replace(/\/+$/, '')}/`);
  for (const f of rec.files) {
    let rel: string | null = null;
    if (f.startsWith('/')) {
      const root = roots.find((r) => f.startsWith(r));
      rel = root ? normalizeRelative(f.slice(root.length)) : null;
    } else rel = normalizeRelative(f);
    if (rel === null || RESERVED_DIRS.includes(rel.split('/')[0]!)) refused.push(f);
    else paths.push(rel);
  }
  return { paths, refused };
}

/** Every install record of the prefix, by key: one per `EGG-INFO/<key>/egginst.json`. */
export function readAllRecords(prefix: string): Map<string, InstallRecord> {
  let keys: string[];
  try {
    keys = readdirSync(join(prefix, 'EGG-INFO'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new Map();
    throw new PkgError(ErrorCodes.IO, `cannot list ${join(prefix, 'EGG-INFO')}: ${(e as Error).message}`, { cause: e });
  }
  const out = new Map<string, InstallRecord>();
  for (const key of keys.sort()) {
    if (key !== key.toLowerCase()) continue;
    const rec = readRecord(prefix, key);
    if (rec) out.set(key, rec);
  }
  return out;
}

/**
 * A fingerprint of every install record (its meta dir name, inode, size, mtime and ctime), cheap
 * enough for every run: equal fingerprints mean no record was written, replaced or removed in
 * between, so a caller that compared the records with its own state need not read them again.
 */
export function recordsSignature(prefix: string): string {
  const dir = join(prefix, 'EGG-INFO');
  let keys: string[];
  try {
    keys = readdirSync(dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 'none';
    throw new PkgError(ErrorCodes.IO, `cannot list ${dir}: ${(e as Error).message}`, { cause: e });
  }
  const hash = createHash('sha256');
  for (const key of keys.sort()) {
    const st = statSync(join(dir, key, 'egginst.json'), { bigint: true, throwIfNoEntry: false });
    hash.update(st ? `${key} ${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs}\n` : `${key} -\n`);
  }
  return hash.digest('hex');
}

/** Every installed package, as `list` shows it. */
export function listInstalled(prefix: string): InstalledPackage[] {
  return [...readAllRecords(prefix)].map(([key, rec]) => ({
    key,
    name: rec.name,
    version: rec.version,
    build: rec.build,
    eggName: rec.egg_name,
    legacyRecord: rec.records === undefined,
    installedSize: rec.installed_size,
    files: rec.files.length,
    metaDir: `EGG-INFO/${key}`,
  }));
}

export function serializeRecord(rec: InstallRecord): string {
  return `${JSON.stringify(rec, null, 2)}\n`;
}

export function describeRefused(key: string, refused: string[]): string {
  const shown = `${refused.slice(0, 3).join(', ')}${refused.length > 3 ? ', ...' : ''}`;
  return `the record of ${key} lists ${refused.length} path(s) outside the prefix, which were left alone: ${shown}`;
}
