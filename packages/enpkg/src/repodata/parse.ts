/**
 * The index document (FORMATS section 3): parse and validate, treating every byte as hostile.
 * Every entry is checked (file name pattern and its agreement with name/version/build, types, sizes,
 * hashes, requirement strings); the first bad one refuses the whole index, and the error names it.
 *
 * This is the hot path of loading a 100,000-entry index: one pass, no copies of the document,
 * requirement strings validated once per distinct string.
 */
import { parseEggName } from 'egginst/core';
import { PkgError } from '../errors.js';
import { parseRequirement } from '../requirement.js';
import { RepoErrorCodes } from '../repo/errors.js';
import type { IndexEntry, RepoIndex } from '../repo/types.js';

export const INDEX_SCHEMA = 1;

export interface ParseIndexOptions {
  readonly format: 'zst' | 'legacy';
  /** Names the index in errors: `the index of acme (https://...)`. */
  readonly source: string;
  /** The repository name given to every entry. */
  readonly repository: string;
}

/** The serialized form of one entry (ours; Enstaller's legacy form has the same keys minus sha256). */
export interface IndexEntryJson {
  name: string;
  version: string;
  build: number;
  packages: string[];
  python: string | null;
  platform: string | null;
  arch: string | null;
  size: number;
  sha256?: string;
  md5?: string;
  mtime?: number;
  summary?: string;
}

export interface IndexDocument {
  schema: number;
  repository: string | null;
  serial: number;
  generated: string;
  expires?: string;
  packages: Record<string, IndexEntryJson>;
}

const TAG = /^[A-Za-z0-9._+-]{1,40}$/;
const EMPTY: readonly string[] = Object.freeze([]);

/**
 * Requirement strings in the forms `enpkg repo index` and real indexes use (`name`, `name 1.2`,
 * `name 1.2-3`, `name >= 1.2, < 2.0`), accepted without a full parse. This is a strict subset of what
 * `parseRequirement` accepts (tested): anything else goes through `parseRequirement` itself.
 */
const V = '[A-Za-z0-9_.+]+(?:-(?:0|[1-9][0-9]*))?';
const OP = '(?:==|!=|<=|>=|\\^=|<|>)';
export const SIMPLE_REQUIREMENT = new RegExp(`^[A-Za-z0-9_.]+(?: ${V}| ${OP} ${V}(?:, ${OP} ${V})*)?$`);

export function isLowerHex(s: unknown, length: number): s is string {
  if (typeof s !== 'string' || s.length !== length) return false;
  for (let i = 0; i < length; i++) {
    const c = s.charCodeAt(i);
    if (!((c >= 48 && c <= 57) || (c >= 97 && c <= 102))) return false;
  }
  return true;
}

function shown(s: string): string {
  return JSON.stringify(s.length > 100 ? `${s.slice(0, 100)}...` : s);
}

export function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return typeof v === 'object' ? 'an object' : `${typeof v} ${shown(String(v))}`;
}

export function invalid(
  source: string,
  why: string,
  hint = 'the index is malformed; the publisher should run "enpkg repo index" again',
): PkgError {
  return new PkgError(RepoErrorCodes.INDEX_INVALID, `${source}: ${why}`, { hint, details: { source } });
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

class EntryChecker {
  /** Requirement strings outside the simple forms, already parsed: true, or the error they gave. */
  private readonly requirements = new Map<string, true | PkgError>();
  /** Lower-cased file names that had upper case, to refuse two entries differing only in case. */
  private readonly folded = new Set<string>();

  constructor(
    private readonly opts: ParseIndexOptions,
    /** Every entry by file name (JSON.parse already made the names unique). */
    private readonly all: Record<string, unknown>,
  ) {}

  fail(fileName: string, why: string, field?: string): never {
    throw new PkgError(RepoErrorCodes.INDEX_ENTRY_INVALID, `${this.opts.source}: entry ${shown(fileName)}: ${why}`, {
      hint:
        'the index is malformed or hostile and was refused as a whole; ' +
        'the publisher should fix the egg and run "enpkg repo index" again',
      details: { source: this.opts.source, entry: fileName.slice(0, 200), ...(field ? { field } : {}) },
    });
  }

  private tag(fileName: string, v: unknown, field: 'python' | 'platform' | 'arch'): string | null {
    if (v === undefined || v === null) return null;
    if (typeof v !== 'string' || !TAG.test(v)) this.fail(fileName, `"${field}" must be null or a short word, not ${typeName(v)}`, field);
    return v;
  }

  private depends(fileName: string, v: unknown): readonly string[] {
    if (v === undefined || v === null) return EMPTY;
    if (!Array.isArray(v)) this.fail(fileName, `"packages" must be a list of requirement strings, not ${typeName(v)}`, 'packages');
    for (let i = 0; i < v.length; i++) {
      const r = v[i] as unknown;
      if (typeof r !== 'string') this.fail(fileName, `"packages"[${i}] must be a requirement string, not ${typeName(r)}`, 'packages');
      if (SIMPLE_REQUIREMENT.test(r)) continue;
      let ok = this.requirements.get(r);
      if (ok === undefined) {
        try {
          parseRequirement(r);
          ok = true;
        } catch (err) {
          if (!(err instanceof PkgError)) throw err;
          ok = err;
        }
        this.requirements.set(r, ok);
      }
      if (ok !== true) this.fail(fileName, ok.message, 'packages');
    }
    return v as string[];
  }

  /**
   * Check one entry and turn it into an IndexEntry in place (the parsed object gains `key`,
   * `depends`, `eggName`, `repository`): no second object per entry, which matters at 100,000.
   */
  entry(fileName: string, raw: unknown): IndexEntry {
    const id = parseEggName(fileName);
    if (id === null)
      this.fail(
        fileName,
        'not an egg file name of the form <name>-<version>-<build>.egg ' +
          '(a name starts with a letter, digit or "_"; no "/", "..", "-" or spaces)',
      );
    const lower = fileName.toLowerCase();
    if (lower !== fileName) {
      if (Object.hasOwn(this.all, lower) || this.folded.has(lower))
        this.fail(fileName, 'a second entry for the same package (file names differ only in case)');
      this.folded.add(lower);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) this.fail(fileName, `expected an object, found ${typeName(raw)}`);
    const e = raw as Record<string, unknown>;
    const name = e.name;
    if (typeof name !== 'string') this.fail(fileName, `"name" must be a string, not ${typeName(name)}`, 'name');
    if (name !== id.name && name.toLowerCase() !== id.key)
      this.fail(fileName, `"name" is ${shown(name)} but the file name says ${shown(id.name)}`, 'name');
    if (e.version !== id.version)
      this.fail(fileName, `"version" is ${typeName(e.version)} but the file name says ${shown(id.version)}`, 'version');
    if (e.build !== id.build) this.fail(fileName, `"build" is ${typeName(e.build)} but the file name says ${id.build}`, 'build');
    const size = e.size;
    if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0)
      this.fail(fileName, `"size" must be a whole number of bytes, not ${typeName(size)}`, 'size');
    const legacy = this.opts.format === 'legacy';
    const sha256 = e.sha256;
    if ((sha256 !== undefined || !legacy) && !isLowerHex(sha256, 64))
      this.fail(fileName, `"sha256" must be 64 lower-case hex digits, not ${typeName(sha256)}`, 'sha256');
    const md5 = e.md5;
    if ((md5 !== undefined || legacy) && !isLowerHex(md5, 32))
      this.fail(fileName, `"md5" must be 32 lower-case hex digits, not ${typeName(md5)}`, 'md5');
    const mtime = e.mtime;
    if (mtime !== undefined || legacy) {
      if (typeof mtime !== 'number' || !Number.isFinite(mtime) || mtime < 0)
        this.fail(fileName, `"mtime" must be a number of seconds, not ${typeName(mtime)}`, 'mtime');
    }
    const summary = e.summary;
    if (summary !== undefined && summary !== null && typeof summary !== 'string')
      this.fail(fileName, `"summary" must be a string, not ${typeName(summary)}`, 'summary');
    const depends = this.depends(fileName, e.packages);
    const python = this.tag(fileName, e.python, 'python');
    const platform = this.tag(fileName, e.platform, 'platform');
    const arch = this.tag(fileName, e.arch, 'arch');
    const out = e as unknown as Mutable<IndexEntry>;
    if (name !== id.name) out.name = id.name;
    out.key = id.key;
    out.depends = depends;
    out.python = python;
    out.platform = platform;
    out.arch = arch;
    out.eggName = fileName;
    if (sha256 === undefined) out.sha256 = null;
    if (md5 === undefined) out.md5 = null;
    if (mtime === undefined) out.mtime = null;
    if (summary === undefined) out.summary = null;
    out.repository = this.opts.repository;
    return out;
  }
}

function packagesNotAnObject(source: string, found: string): PkgError {
  return invalid(source, `"packages" must be an object mapping egg file names to entries, not ${found}`);
}

/** The `packages` mapping (egg file name -> entry) checked entry by entry, as IndexEntries. */
export function parseEntries(packages: unknown, opts: ParseIndexOptions): IndexEntry[] {
  if (packages === null || typeof packages !== 'object' || Array.isArray(packages))
    throw packagesNotAnObject(opts.source, typeName(packages));
  const map = packages as Record<string, unknown>;
  const checker = new EntryChecker(opts, map);
  const names = Object.keys(map);
  const entries: IndexEntry[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) entries[i] = checker.entry(names[i]!, map[names[i]!]);
  return entries;
}

function optionalDate(doc: Record<string, unknown>, key: 'generated' | 'expires', source: string): string | null {
  const v = doc[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v)))
    throw invalid(source, `"${key}" must be a date and time (ISO 8601), not ${typeName(v)}`);
  return v;
}

/** The `schema` field, checked before any entry. */
function checkSchema(schema: unknown, source: string): void {
  if (typeof schema !== 'number') throw invalid(source, `"schema" must be a number, not ${typeName(schema)}`);
  if (schema !== INDEX_SCHEMA) {
    throw new PkgError(
      RepoErrorCodes.INDEX_SCHEMA_UNSUPPORTED,
      `${source}: index schema ${schema}, but this enpkg reads schema ${INDEX_SCHEMA}`,
      {
        hint: schema > INDEX_SCHEMA ? 'update enpkg ("enpkg self-update")' : 'the publisher should run "enpkg repo index" again',
        details: { source, schema },
      },
    );
  }
}

export interface IndexHeader {
  readonly repository: string | null;
  readonly serial: number;
  readonly generated: string | null;
  readonly expires: string | null;
}

/** The top-level fields of our index and of a sharded index's root: schema, serial, name, dates. */
export function parseHeader(top: Record<string, unknown>, source: string): IndexHeader {
  checkSchema(top.schema, source);
  const serial = top.serial;
  if (typeof serial !== 'number' || !Number.isSafeInteger(serial) || serial < 0)
    throw invalid(source, `"serial" must be a whole number >= 0, not ${typeName(serial)}`);
  const repository = top.repository;
  if (repository !== undefined && repository !== null && (typeof repository !== 'string' || repository.length > 200)) {
    throw invalid(source, `"repository" must be a short string, not ${typeName(repository)}`);
  }
  return {
    repository: (repository as string | undefined) ?? null,
    serial,
    generated: optionalDate(top, 'generated', source),
    expires: optionalDate(top, 'expires', source),
  };
}

/** The top-level fields (all but `packages`) checked, with the entries, as a RepoIndex. */
function indexFromParts(top: Record<string, unknown>, entries: IndexEntry[], opts: ParseIndexOptions): RepoIndex {
  if (opts.format === 'legacy') return { format: 'legacy', repository: null, serial: 0, generated: null, expires: null, entries };
  return { format: 'zst', ...parseHeader(top, opts.source), entries };
}

/** A parsed JSON document (ours or Enstaller's legacy index.json) to a validated index. */
export function parseIndexDocument(doc: unknown, opts: ParseIndexOptions): RepoIndex {
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw invalid(opts.source, `expected a JSON object, found ${typeName(doc)}`);
  const d = doc as Record<string, unknown>;
  if (opts.format === 'legacy') return indexFromParts({}, parseEntries(d, opts), opts);
  checkSchema(d.schema, opts.source);
  return indexFromParts(d, parseEntries(d.packages, opts), opts);
}

export function parseJson(text: string, source: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw invalid(source, `not valid JSON (${(e as Error).message.slice(0, 200)})`);
  }
}

/** JSON text to a validated index. */
export function parseIndexText(text: string, opts: ParseIndexOptions): RepoIndex {
  return parseIndexDocument(parseJson(text, opts.source), opts);
}

/** One entry as the index stores it. */
export function entryToJson(e: IndexEntry): IndexEntryJson {
  const j: IndexEntryJson = {
    name: e.name,
    version: e.version,
    build: e.build,
    packages: [...e.depends],
    python: e.python ?? null,
    platform: e.platform ?? null,
    arch: e.arch ?? null,
    size: e.size,
  };
  if (e.sha256 !== null) j.sha256 = e.sha256;
  if (e.md5 !== null) j.md5 = e.md5;
  if (e.mtime !== null) j.mtime = e.mtime;
  if (e.summary !== null) j.summary = e.summary;
  return j;
}
