/**
 * Egg metadata: `EGG-INFO/spec/depend` (Python literal assignments, never executed), the
 * `EGG-INFO/info.json` override, and setuptools' `PKG-INFO`.
 */
import { type ErrorCode, ErrorCodes, PkgError } from './errors.js';
import type { EggSpec } from './types.js';

const KNOWN_KEYS = new Set(['metadata_version', 'name', 'version', 'build', 'arch', 'platform', 'osdist', 'python', 'packages']);

/** A value of a Python literal assignment: string, integer, None, True, False, or a list of strings. */
export type PythonLiteral = string | number | boolean | null | string[];

export interface LiteralFileOptions {
  /** The file, as errors name it. */
  readonly source: string;
  /** The error's code (default METADATA_INVALID) and hint (default: what spec/depend may hold). */
  readonly code?: ErrorCode;
  readonly hint?: string;
}

const SPEC_HINT =
  'spec/depend may hold only assignments of literals (strings, integers, None, True, False, lists of strings); it is never executed';

/**
 * Parse a file of Python literal assignments (`spec/depend`, Enstaller's `.enstaller4rc`): only
 * `name = literal` lines, where a literal is a quoted string, an integer, None/True/False, or a
 * (possibly multi-line) list of strings; comments and blank lines anywhere. It is never executed:
 * anything else (a call, an import, an expression) is an error naming its line.
 */
export function parseLiteralAssignments(text: string, opts: LiteralFileOptions): Map<string, PythonLiteral> {
  const values = new Map<string, PythonLiteral>();
  const p = new LiteralParser(text, opts.source, opts.code ?? ErrorCodes.METADATA_INVALID, opts.hint ?? SPEC_HINT);
  p.skipBlank();
  while (!p.atEnd()) {
    const line = p.line;
    const key = p.identifier();
    p.spaces();
    p.expect('=');
    p.spaces();
    const value = p.literal();
    p.spaces();
    p.comment();
    if (!p.atEnd() && !p.newline()) p.fail(`unexpected ${p.describeNext()} after the value of ${key}`);
    if (values.has(key)) p.fail(`${key} is assigned twice`, line);
    values.set(key, value);
    p.skipBlank();
  }
  return values;
}

/** Parse `spec/depend` (Python literal assignments, never executed). */
export function parseSpecDepend(text: string, source = 'EGG-INFO/spec/depend'): EggSpec {
  return toSpec(Object.fromEntries(parseLiteralAssignments(text, { source })), source);
}

/** Validate a spec object from either source (spec/depend or info.json). */
export function toSpec(obj: Record<string, unknown>, source: string): EggSpec {
  const bad = (key: string, want: string): never => {
    throw new PkgError(ErrorCodes.METADATA_INVALID, `${source}: ${key} must be ${want}, not ${JSON.stringify(obj[key])}`, {
      hint: 'the egg was built wrongly; rebuild it or ask its publisher',
      details: { file: source, key },
    });
  };
  const optString = (key: string): string | null | undefined => {
    const v = obj[key];
    if (v === undefined || v === null || typeof v === 'string') return v as string | null | undefined;
    return bad(key, 'a string or None');
  };
  const spec: EggSpec = { packages: [], extra: {} };
  for (const [key, v] of Object.entries(obj)) if (!KNOWN_KEYS.has(key)) spec.extra[key] = v;
  const mv = optString('metadata_version');
  if (mv != null) spec.metadata_version = mv;
  const name = optString('name');
  if (name != null) spec.name = name;
  const version = optString('version');
  if (version != null) spec.version = version;
  if (obj.build !== undefined) {
    if (typeof obj.build !== 'number' || !Number.isSafeInteger(obj.build) || obj.build < 0) bad('build', 'an integer >= 0');
    spec.build = obj.build as number;
  }
  for (const key of ['arch', 'platform', 'osdist', 'python'] as const) {
    const v = optString(key);
    if (v !== undefined) spec[key] = v;
  }
  if (spec.python != null && !/^\d+\.\d+$/.test(spec.python)) bad('python', "a version like '2.7' or None");
  if (obj.packages !== undefined && obj.packages !== null) {
    if (!Array.isArray(obj.packages) || !obj.packages.every((x) => typeof x === 'string')) bad('packages', 'a list of strings');
    spec.packages = (obj.packages as string[]).map((s) => s.trim()).filter((s) => s.length > 0);
  }
  return spec;
}

/** info.json overrides spec/depend key by key. */
export function mergeInfoJson(spec: EggSpec, infoText: string, source = 'EGG-INFO/info.json'): { spec: EggSpec; summary?: string } {
  let obj: unknown;
  try {
    obj = JSON.parse(infoText);
  } catch (e) {
    throw new PkgError(ErrorCodes.METADATA_INVALID, `${source} is not valid JSON: ${(e as Error).message}`, {
      cause: e,
      details: { file: source },
    });
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) {
    throw new PkgError(ErrorCodes.METADATA_INVALID, `${source} must hold a JSON object`, { details: { file: source } });
  }
  const { summary, ...rest } = obj as Record<string, unknown>;
  const base: Record<string, unknown> = { ...spec.extra, packages: spec.packages };
  for (const k of KNOWN_KEYS)
    if (k !== 'packages' && (spec as unknown as Record<string, unknown>)[k] !== undefined)
      base[k] = (spec as unknown as Record<string, unknown>)[k];
  const merged = toSpec({ ...base, ...rest }, source);
  return typeof summary === 'string' ? { spec: merged, summary } : { spec: merged };
}

/** setuptools PKG-INFO: RFC 822-style headers; only Name and Version matter here. */
export function parsePkgInfo(text: string): { name?: string; version?: string; summary?: string } {
  const out: { name?: string; version?: string; summary?: string } = {};
  for (const line of text.split(/\r?\n/)) {
    if (line === '') break;
    const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const key = m[1]!.toLowerCase();
    if (key === 'name') out.name = m[2]!.trim();
    else if (key === 'version') out.version = m[2]!.trim();
    else if (key === 'summary') out.summary = m[2]!.trim();
  }
  return out;
}

class LiteralParser {
  private pos = 0;
  line = 1;
  constructor(
    private readonly s: string,
    private readonly source: string,
    private readonly code: ErrorCode,
    private readonly hint: string,
  ) {}

  atEnd(): boolean {
    return this.pos >= this.s.length;
  }

  fail(msg: string, line = this.line): never {
    throw new PkgError(this.code, `${this.source} line ${line}: ${msg}`, {
      hint: this.hint,
      details: { file: this.source, line },
    });
  }

  describeNext(): string {
    const rest = this.s.slice(this.pos, this.pos + 20).split('\n')[0] ?? '';
    return rest ? JSON.stringify(rest) : 'end of line';
  }

  spaces(): void {
    while (this.pos < this.s.length && (this.s[this.pos] === ' ' || this.s[this.pos] === '\t')) this.pos++;
  }

  comment(): void {
    if (this.s[this.pos] === '#') while (this.pos < this.s.length && this.s[this.pos] !== '\n') this.pos++;
  }

  newline(): boolean {
    if (this.s[this.pos] === '\r') this.pos++;
    if (this.s[this.pos] === '\n') {
      this.pos++;
      this.line++;
      return true;
    }
    return false;
  }

  /** Skip blank lines, comment lines and whitespace, including newlines. */
  skipBlank(): void {
    for (;;) {
      this.spaces();
      this.comment();
      if (!this.newline()) return;
    }
  }

  expect(ch: string): void {
    if (this.s[this.pos] !== ch) this.fail(`expected ${JSON.stringify(ch)}, found ${this.describeNext()}`);
    this.pos++;
  }

  identifier(): string {
    const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.s.slice(this.pos, this.pos + 200));
    if (!m) this.fail(`expected a name, found ${this.describeNext()}`);
    this.pos += m[0].length;
    return m[0];
  }

  literal(): PythonLiteral {
    const c = this.s[this.pos];
    if (c === "'" || c === '"') return this.string();
    if (c === '[') return this.list();
    const m = /^(?:-?\d+|None|True|False)(?![\w.(])/.exec(this.s.slice(this.pos, this.pos + 40));
    if (!m) this.fail(`expected a literal (string, integer, None, True, False or list), found ${this.describeNext()}`);
    this.pos += m[0].length;
    if (m[0] === 'None') return null;
    if (m[0] === 'True') return true;
    if (m[0] === 'False') return false;
    const n = Number(m[0]);
    if (!Number.isSafeInteger(n)) this.fail(`integer ${m[0]} is out of range`);
    return n;
  }

  string(): string {
    const quote = this.s[this.pos]!;
    this.pos++;
    let out = '';
    for (;;) {
      const c = this.s[this.pos];
      if (c === undefined || c === '\n') this.fail('unterminated string');
      this.pos++;
      if (c === quote) return out;
      if (c === '\\') {
        const e = this.s[this.pos++];
        const simple: Record<string, string> = { n: '\n', t: '\t', '\\': '\\', "'": "'", '"': '"', r: '\r', '0': '\0' };
        if (e !== undefined && e in simple) out += simple[e];
        else this.fail(`unsupported escape \\${e ?? ''} in a string`);
      } else out += c;
    }
  }

  list(): string[] {
    this.expect('[');
    const items: string[] = [];
    for (;;) {
      this.skipBlank();
      if (this.s[this.pos] === ']') {
        this.pos++;
        return items;
      }
      const c = this.s[this.pos];
      if (c !== "'" && c !== '"') this.fail(`lists may hold only strings, found ${this.describeNext()}`);
      items.push(this.string());
      this.skipBlank();
      if (this.s[this.pos] === ',') this.pos++;
      else if (this.s[this.pos] !== ']') this.fail(`expected "," or "]" in a list, found ${this.describeNext()}`);
    }
  }
}
