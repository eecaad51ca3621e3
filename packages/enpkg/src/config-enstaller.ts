/**
 * Enstaller's configuration files as ours: `.enstaller4rc` (Python literal assignments, parsed by
 * egginst's literal parser and never executed) and Enstaller's YAML (`store_url`, `authentication`,
 * `files_cache`, `repositories`). Each key becomes the key of our format that means the same; a key
 * with no meaning here is a warning, not an error. `{ARCH}`, `{SUBDIR}` and `{PLATFORM}` in URLs and
 * paths are replaced as Enstaller did (platform.ts has the values). Secrets written in them
 * (`EPD_auth`, `api_token`, a password) become secrets read as they are, shown only as `***`.
 */
import { parseLiteralAssignments } from 'egginst/core';
import { PkgError } from './errors.js';
import { enstallerPlatform } from './platform.js';
import { RepoErrorCodes } from './repo/errors.js';
import type { AuthConfig, ConfigWarning } from './repo/types.js';

type Obj = Record<string, unknown>;

/** What an Enstaller file says, in our format's keys, plus what our YAML cannot hold. */
export interface TranslatedConfig {
  /** Our format's keys (validated by config.ts like a file of ours). */
  readonly data: Obj;
  /** For every http(s) repository of the file (Enstaller sent its credentials to each). */
  readonly auth: AuthConfig | null;
  /** `proxy`, which may carry its credentials. */
  readonly proxy: string | null;
  readonly warnings: ConfigWarning[];
}

/** Keys of Enstaller's YAML that our YAML does not have: a file with one (and none of ours only) is Enstaller's. */
const ENSTALLER_YAML_MARKERS = ['store_url', 'authentication', 'files_cache', 'max_retries', 'verify_ssl', 'use_webservice'];
/** Keys only our YAML has: with one of them a file is ours, and Enstaller's keys in it are unknown keys. */
const OUR_ONLY_KEYS = ['network', 'cache_dir', 'parallel_downloads', 'script_timeout', 'python', 'store', 'link_mode'];

/** Whether a parsed YAML mapping is Enstaller's format rather than ours. */
export function isEnstallerYaml(data: Obj): boolean {
  return ENSTALLER_YAML_MARKERS.some((k) => Object.hasOwn(data, k)) && !OUR_ONLY_KEYS.some((k) => Object.hasOwn(data, k));
}

/**
 * Whether a file is Python (`.enstaller4rc`): it is named so, or its first statement is Python's
 * (`name = ...`, `import x`, `f(...)`), which YAML's `key: value` never is.
 */
export function looksLikePython(file: string, text: string): boolean {
  if (/enstaller4rc$/.test(file)) return true;
  for (const line of text.split(/\r?\n/)) {
    const t = line.trim();
    if (t === '' || t.startsWith('#')) continue;
    return /^(?:[A-Za-z_][\w.]*\s*[=(]|(?:import|from)\s)/.test(t);
  }
  return false;
}

function fail(file: string, key: string, why: string, hint: string): never {
  throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${file}: ${key}: ${why}`, { hint, details: { file, key } });
}

/** `{ARCH}`, `{SUBDIR}`, `{PLATFORM}` replaced; any other `{NAME}` is an error naming the key. */
export function substitutePlaceholders(text: string, file: string, key: string): string {
  const values: Record<string, string> = enstallerPlatform();
  return text.replace(/\{([A-Za-z_]*)\}/g, (whole, name: string) => {
    const v = Object.hasOwn(values, name) ? values[name] : undefined;
    if (v === undefined) fail(file, key, `unknown placeholder ${whole}`, 'the placeholders are {ARCH}, {SUBDIR} and {PLATFORM}');
    return v;
  });
}

/** A store-style name (`enthought/free`) as the URL of its repository on the store. */
function repositoryLocation(text: string, storeUrl: string | null, file: string, key: string): string {
  const t = substitutePlaceholders(text, file, key);
  if (/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/.test(t)) {
    if (storeUrl === null)
      fail(file, key, `"${t}" is a repository name on a store, and no store_url is given`, 'add store_url, or write the repository URL');
    return `${storeUrl.replace(/\/+$/, '')}/repo/${t}/${enstallerPlatform().PLATFORM}/`;
  }
  return t;
}

function str(v: unknown, file: string, key: string): string {
  if (typeof v !== 'string' || v === '') fail(file, key, `expected a non-empty string, got ${JSON.stringify(v)}`, 'write a quoted string');
  return v;
}

function bool(v: unknown, file: string, key: string): boolean {
  if (typeof v !== 'boolean') fail(file, key, `expected True or False, got ${JSON.stringify(v)}`, 'write True or False');
  return v;
}

/** EPD_auth / Enstaller's basic `auth`: base64 of `user:password`. */
function decodeBasic(v: unknown, file: string, key: string): AuthConfig {
  const text = str(v, file, key).trim();
  const decoded = /^[A-Za-z0-9+/]+={0,2}$/.test(text) ? Buffer.from(text, 'base64').toString('utf8') : '';
  if (!decoded.includes(':') || decoded.startsWith(':'))
    fail(file, key, 'is not the base64 of "user:password"', 'write it again with enpkg --userpass (it never shows the secret)');
  return { kind: 'credentials', credentials: { value: decoded, from: file } };
}

const ignored = (key: string, why: string): ConfigWarning => ({ key, message: `${key} is ignored: ${why}` });

const network = (out: Obj): Obj => (out.network ??= {}) as Obj;

/** Keys both Enstaller formats have, mapped the same way. */
function common(key: string, v: unknown, file: string, out: Obj, w: ConfigWarning[]): boolean {
  switch (key) {
    case 'prefix':
      if (v !== null) out.prefix = substitutePlaceholders(str(v, file, key), file, key);
      return true;
    case 'autoupdate':
      out.autoupdate = bool(v, file, key);
      return true;
    case 'max_retries':
      network(out).retries = v;
      return true;
    case 'verify_ssl':
      network(out).verify_ssl = bool(v, file, key);
      return true;
    case 'noapp':
      if (bool(v, file, key) === false) w.push(ignored(key, 'enpkg creates no application menu entries (as if noapp = True)'));
      return true;
    case 'use_webservice':
      if (v === true) w.push(ignored(key, 'the repositories are read from their URLs (IndexedRepos, repositories)'));
      return true;
    default:
      return false;
  }
}

/** `.enstaller4rc`: Python literal assignments, never executed. */
export function translateEnstaller4rc(text: string, file: string): TranslatedConfig {
  const values = parseLiteralAssignments(text, {
    source: file,
    code: RepoErrorCodes.CONFIG_INVALID,
    hint:
      '.enstaller4rc is read as Python literal assignments only (strings, integers, None, True, False, lists of strings); ' +
      'it is never run',
  });
  const out: Obj = {};
  const warnings: ConfigWarning[] = [];
  let auth: AuthConfig | null = null;
  let proxy: string | null = null;
  const storeUrl = typeof values.get('store_url') === 'string' ? (values.get('store_url') as string) : null;
  for (const [key, v] of values) {
    if (common(key, v, file, out, warnings)) continue;
    switch (key) {
      case 'IndexedRepos':
        if (!Array.isArray(v)) fail(file, key, 'expected a list of URLs', "write IndexedRepos = ['https://...', ...]");
        out.repositories = v.map((u, i) => repositoryLocation(u, storeUrl, file, `${key}[${i}]`));
        break;
      case 'EPD_auth':
        if (v !== null && auth?.kind !== 'token') auth = decodeBasic(v, file, key);
        break;
      case 'api_token':
        if (v !== null) auth = { kind: 'token', token: { value: str(v, file, key), from: file } };
        break;
      case 'proxy':
        if (v !== null) proxy = str(v, file, key);
        break;
      case 'store_url':
        if (!values.has('IndexedRepos')) warnings.push(ignored(key, 'no IndexedRepos names a repository on it'));
        break;
      default:
        warnings.push(ignored(key, 'it has no meaning here'));
    }
  }
  return { data: out, auth, proxy, warnings };
}

function authentication(v: unknown, file: string): AuthConfig | null {
  if (v === null || v === undefined) return null;
  if (typeof v !== 'object' || Array.isArray(v)) fail(file, 'authentication', 'expected a mapping', 'write {kind: token, api_token: ...}');
  const o = v as Obj;
  const kind = o.kind;
  if (kind === 'token') return { kind: 'token', token: { value: str(o.api_token, file, 'authentication.api_token'), from: file } };
  if (kind === 'simple') {
    const user = str(o.username, file, 'authentication.username');
    return { kind: 'basic', user, password: { value: str(o.password, file, 'authentication.password'), from: file } };
  }
  if (kind === 'basic') return decodeBasic(o.auth, file, 'authentication.auth');
  return fail(file, 'authentication.kind', `expected token, simple or basic, got ${JSON.stringify(kind)}`, 'see docs/enstaller.md');
}

/** Enstaller's YAML configuration. */
export function translateEnstallerYaml(data: Obj, file: string): TranslatedConfig {
  const out: Obj = {};
  const warnings: ConfigWarning[] = [];
  let proxy: string | null = null;
  const storeUrl = typeof data.store_url === 'string' ? data.store_url : null;
  for (const [key, v] of Object.entries(data)) {
    if (common(key, v, file, out, warnings)) continue;
    switch (key) {
      case 'repositories':
        if (!Array.isArray(v)) fail(file, key, 'expected a list', 'write one "- enthought/free" (or URL) per line');
        out.repositories = v.map((r, i) => repositoryLocation(str(r, file, `${key}[${i}]`), storeUrl, file, `${key}[${i}]`));
        break;
      case 'files_cache':
        out.cache_dir = substitutePlaceholders(str(v, file, key), file, key);
        break;
      case 'proxy':
        if (v !== null) proxy = str(v, file, key);
        break;
      case 'store_url':
      case 'authentication':
        break;
      default:
        warnings.push(ignored(key, 'it has no meaning here'));
    }
  }
  return { data: out, auth: authentication(data.authentication, file), proxy, warnings };
}
