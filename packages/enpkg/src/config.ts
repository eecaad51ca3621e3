/**
 * Configuration: find the file, parse the YAML, validate every key, apply the command line.
 *
 * The file used is the first of: `--config`, `$ENPKG_CONFIG`, `<prefix>/.enpkg/config.yaml` (prefix
 * from `--prefix`, `$ENPKG_PREFIX`, or the launcher's `$ENPKG_HOME`), `$XDG_CONFIG_HOME/enpkg/config.yaml`
 * (default `~/.config/enpkg/config.yaml`). One file is read; none is fine (defaults). The prefix is
 * `--prefix`, else `$ENPKG_PREFIX`, else the prefix whose `bin/enpkg` launcher is running
 * (`$ENPKG_HOME`, set by the launcher), else the file's `prefix`. `--repo` (repeatable) replaces the
 * configured repositories: one that names a configured repository (by name or location) keeps its
 * settings (keys, auth, mirrors).
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { createRequire } from 'node:module';
import type { parseDocument as ParseDocument } from 'yaml';
import { defaultLinkMode, LINK_MODES } from 'egginst';
import { ErrorCodes, PkgError } from './errors.js';
import { readFailure, readRegularFileSync } from './readfile.js';
import { RepoErrorCodes } from './repo/errors.js';
import { describeLocation, expandHome, locationKey, parseLocation, redactLocationText } from './repo/location.js';
import type {
  AuthConfig,
  ConfigWarning,
  EnpkgConfig,
  NetworkSettings,
  ProxyConfig,
  RepoLocation,
  RepositoryConfig,
  SecretSource,
} from './repo/types.js';
import { parseProxy } from './http/proxy.js';
import {
  isEnstallerYaml,
  looksLikePython,
  type TranslatedConfig,
  translateEnstaller4rc,
  translateEnstallerYaml,
} from './config-enstaller.js';

/** yaml is loaded only when there is a file to parse: it is many modules, and most runs have no file. */
let yamlParse: typeof ParseDocument | undefined;
function parseDocument(...args: Parameters<typeof ParseDocument>): ReturnType<typeof ParseDocument> {
  yamlParse ??= (createRequire(import.meta.url)('yaml') as { parseDocument: typeof ParseDocument }).parseDocument;
  return yamlParse(...args);
}

export interface LoadConfigOptions {
  /** `--config FILE`. */
  readonly configFile?: string | undefined;
  /** `--prefix DIR`. */
  readonly prefix?: string | undefined;
  /** `--repo URL|DIR`, repeatable. */
  readonly repos?: readonly string[] | undefined;
  /** `--proxy URL`: the proxy for http and https, over the file's and the environment's. */
  readonly proxy?: string | undefined;
  /** `-k/--insecure`: TLS certificates are not verified. */
  readonly insecure?: boolean | undefined;
  /** `--max-retries N`. */
  readonly maxRetries?: number | undefined;
  /** `--no-autoupdate`. */
  readonly noAutoupdate?: boolean | undefined;
  /** `--sys-config`: the prefix's configuration only, never the user's. */
  readonly sysConfig?: boolean | undefined;
  /** `--sys-prefix`: the prefix enpkg itself runs from (its launcher's). */
  readonly sysPrefix?: boolean | undefined;
  /** `--user`: the per-user prefix, `$XDG_DATA_HOME/enpkg/prefix` (default `~/.local/share/enpkg/prefix`). */
  readonly user?: boolean | undefined;
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly home?: string;
}

export const CONFIG_KEYS = [
  'repositories',
  'prefix',
  'python',
  'python_executable',
  'cache_dir',
  'parallel_downloads',
  'script_timeout',
  'store',
  'link_mode',
  'autoupdate',
  'network',
  'auth',
] as const;
const REPO_KEYS = ['url', 'path', 'name', 'mirrors', 'keys', 'insecure', 'auth'];
const NETWORK_KEYS = [
  'connect_timeout',
  'idle_timeout',
  'timeout',
  'retries',
  'retry_delay',
  'ca_file',
  'max_index_size',
  'proxy',
  'verify_ssl',
];

export const DEFAULT_NETWORK: NetworkSettings = {
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 30_000,
  totalTimeoutMs: 300_000,
  retries: 3,
  retryDelayMs: 500,
  caFile: null,
  maxIndexSize: 256 * 2 ** 20,
  proxy: null,
  verifyTls: true,
};

type Obj = Record<string, unknown>;

/** Validation context: names the file and the key in every error. */
class Checker {
  constructor(
    readonly file: string,
    readonly home: string,
    /** An Enstaller file: its proxy may carry a password (read as written, shown as ***). */
    readonly inlineSecrets = false,
  ) {}

  fail(key: string, why: string, hint: string): never {
    throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${this.file}: ${key}: ${why}`, { hint, details: { file: this.file, key } });
  }

  mapping(v: unknown, key: string): Obj {
    if (v === null || typeof v !== 'object' || Array.isArray(v))
      this.fail(key, `expected a mapping, got ${describe(v)}`, 'see "enpkg config --help" for the keys');
    return v as Obj;
  }

  known(o: Obj, allowed: readonly string[], key: string): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail(key ? `${key}.${k}` : k, 'unknown key', `the keys allowed here are: ${allowed.join(', ')}`);
    }
  }

  string(v: unknown, key: string): string {
    if (typeof v !== 'string' || v === '')
      this.fail(key, `expected a non-empty string, got ${describe(v)}`, 'quote the value if YAML reads it as something else');
    return v;
  }

  bool(v: unknown, key: string): boolean {
    if (typeof v !== 'boolean') this.fail(key, `expected true or false, got ${describe(v)}`, 'write true or false');
    return v;
  }

  number(v: unknown, key: string, min: number, max: number, integer: boolean): number {
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
      this.fail(key, `expected ${integer ? 'a whole number' : 'a number'} from ${min} to ${max}, got ${describe(v)}`, 'fix the value');
    }
    return v;
  }

  choice<T extends string>(v: unknown, key: string, allowed: readonly T[]): T {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v))
      this.fail(key, `expected one of ${allowed.join(', ')}, got ${describe(v)}`, `write one of: ${allowed.join(', ')}`);
    return v as T;
  }

  strings(v: unknown, key: string): string[] {
    if (!Array.isArray(v)) this.fail(key, `expected a list, got ${describe(v)}`, 'write a YAML list: [a, b] or one "- item" per line');
    return v.map((x, i) => this.string(x, `${key}[${i}]`));
  }
}

function describe(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  const text = JSON.stringify(typeof v === 'string' ? redactLocationText(v) : v);
  return `${typeof v} ${text.length > 40 ? `${text.slice(0, 40)}...` : text}`;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1e3,
  kib: 2 ** 10,
  m: 1e6,
  mb: 1e6,
  mib: 2 ** 20,
  g: 1e9,
  gb: 1e9,
  gib: 2 ** 30,
};

function parseSize(v: unknown, key: string, c: Checker): number {
  if (typeof v === 'number') return c.number(v, key, 1, 2 ** 40, true);
  const m = typeof v === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$/.exec(v) : null;
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined)
    c.fail(key, `expected a size in bytes (or with a unit: KiB, MiB, GiB), got ${describe(v)}`, 'e.g. 268435456 or "256 MiB"');
  return c.number(Math.round(Number(m[1]) * unit), key, 1, 2 ** 40, true);
}

function secret(v: unknown, key: string, c: Checker): SecretSource {
  if (typeof v === 'string') {
    c.fail(
      key,
      'a secret written in the configuration file',
      `write {env: VARIABLE} or {file: PATH}: the secret stays in the environment or in a file of its own`,
    );
  }
  const o = c.mapping(v, key);
  c.known(o, ['env', 'file'], key);
  if (Object.hasOwn(o, 'env') === Object.hasOwn(o, 'file'))
    c.fail(key, 'give exactly one of env or file', 'write {env: VARIABLE} or {file: PATH}');
  if (Object.hasOwn(o, 'env')) return { env: c.string(o.env, `${key}.env`) };
  return { file: c.string(o.file, `${key}.file`) };
}

function auth(v: unknown, key: string, c: Checker, baseDir: string): AuthConfig {
  const o = c.mapping(v, key);
  c.known(o, ['token', 'user', 'password', 'credentials'], key);
  const withBase = (s: SecretSource): SecretSource => ('file' in s ? { file: resolve(baseDir, expandHome(s.file, c.home)) } : s);
  if (Object.hasOwn(o, 'credentials')) {
    if (Object.keys(o).length > 1) c.fail(key, 'give credentials alone', 'credentials is one secret holding user:password');
    return { kind: 'credentials', credentials: withBase(secret(o.credentials, `${key}.credentials`, c)) };
  }
  if (Object.hasOwn(o, 'token')) {
    if (Object.hasOwn(o, 'user') || Object.hasOwn(o, 'password'))
      c.fail(key, 'give either token or user and password, not both', 'keep one way to authenticate');
    return { kind: 'token', token: withBase(secret(o.token, `${key}.token`, c)) };
  }
  if (!Object.hasOwn(o, 'user') || !Object.hasOwn(o, 'password'))
    c.fail(key, 'expected token, or user and password', 'write {token: {env: VAR}} or {user: NAME, password: {env: VAR}}');
  const user = typeof o.user === 'string' ? c.string(o.user, `${key}.user`) : withBase(secret(o.user, `${key}.user`, c));
  return { kind: 'basic', user, password: withBase(secret(o.password, `${key}.password`, c)) };
}

function repository(v: unknown, index: number, c: Checker, baseDir: string): RepositoryConfig {
  const key = `repositories[${index}]`;
  const origin = `${c.file}: ${key}`;
  if (typeof v === 'string') {
    const location = parseLocation(v, { baseDir, where: origin, insecure: false, home: c.home });
    return { name: describeLocation(location), location, mirrors: [], keys: [], insecure: false, auth: null, origin };
  }
  const o = c.mapping(v, key);
  c.known(o, REPO_KEYS, key);
  if (Object.hasOwn(o, 'url') === Object.hasOwn(o, 'path'))
    c.fail(key, 'give exactly one of url or path', 'e.g. url: https://eggs.example.com/main/ or path: /srv/eggs');
  const insecure = o.insecure === undefined ? false : c.bool(o.insecure, `${key}.insecure`);
  const locKey = Object.hasOwn(o, 'url') ? 'url' : 'path';
  const location = parseLocation(c.string(o[locKey], `${key}.${locKey}`), {
    baseDir,
    where: `${origin}.${locKey}`,
    insecure,
    home: c.home,
  });
  const mirrors =
    o.mirrors === undefined
      ? []
      : c
          .strings(o.mirrors, `${key}.mirrors`)
          .map((m, i) => parseLocation(m, { baseDir, where: `${origin}.mirrors[${i}]`, insecure, home: c.home }));
  const keys = o.keys === undefined ? [] : c.strings(o.keys, `${key}.keys`);
  const name = o.name === undefined ? describeLocation(location) : c.string(o.name, `${key}.name`);
  return { name, location, mirrors, keys, insecure, auth: o.auth === undefined ? null : auth(o.auth, `${key}.auth`, c, baseDir), origin };
}

function network(v: unknown, c: Checker, baseDir: string): NetworkSettings {
  const o = c.mapping(v, 'network');
  c.known(o, NETWORK_KEYS, 'network');
  const seconds = (k: string, dflt: number): number =>
    o[k] === undefined ? dflt : Math.round(c.number(o[k], `network.${k}`, 0.001, 86_400, false) * 1000);
  return {
    connectTimeoutMs: seconds('connect_timeout', DEFAULT_NETWORK.connectTimeoutMs),
    idleTimeoutMs: seconds('idle_timeout', DEFAULT_NETWORK.idleTimeoutMs),
    totalTimeoutMs: seconds('timeout', DEFAULT_NETWORK.totalTimeoutMs),
    retries: o.retries === undefined ? DEFAULT_NETWORK.retries : c.number(o.retries, 'network.retries', 0, 20, true),
    retryDelayMs:
      o.retry_delay === undefined
        ? DEFAULT_NETWORK.retryDelayMs
        : Math.round(c.number(o.retry_delay, 'network.retry_delay', 0, 600, false) * 1000),
    caFile: o.ca_file === undefined ? null : resolve(baseDir, expandHome(c.string(o.ca_file, 'network.ca_file'), c.home)),
    maxIndexSize: o.max_index_size === undefined ? DEFAULT_NETWORK.maxIndexSize : parseSize(o.max_index_size, 'network.max_index_size', c),
    proxy: o.proxy === undefined || o.proxy === null ? null : proxyKey(o.proxy, c, baseDir),
    verifyTls: o.verify_ssl === undefined ? true : c.bool(o.verify_ssl, 'network.verify_ssl'),
  };
}

/** `network.proxy`: a URL without credentials, or {url, user, password} with the password from env or a file. */
function proxyKey(v: unknown, c: Checker, baseDir: string): ProxyConfig {
  const origin = `${c.file}: network.proxy`;
  if (typeof v === 'string') {
    const p = parseProxy(v, origin);
    if (p.password !== null && !c.inlineSecrets)
      c.fail('network.proxy', 'a password written in the configuration file', 'write {url: ..., user: NAME, password: {env: VARIABLE}}');
    return p;
  }
  const o = c.mapping(v, 'network.proxy');
  c.known(o, ['url', 'user', 'password'], 'network.proxy');
  const p = parseProxy(c.string(o.url, 'network.proxy.url'), origin);
  if (p.password !== null) c.fail('network.proxy.url', 'a password written in the URL', 'give it as password: {env: VARIABLE}');
  const withBase = (s: SecretSource): SecretSource => ('file' in s ? { file: resolve(baseDir, expandHome(s.file, c.home)) } : s);
  const user =
    o.user === undefined
      ? p.user
      : typeof o.user === 'string'
        ? c.string(o.user, 'network.proxy.user')
        : secret(o.user, 'network.proxy.user', c);
  const password = o.password === undefined ? null : withBase(secret(o.password, 'network.proxy.password', c));
  return { ...p, user, password };
}

/** Aliases a configuration may expand: plenty for a real file, far too few for a "billion laughs" bomb. */
const MAX_ALIAS_COUNT = 100;

function yamlError(file: string, e: unknown): PkgError {
  const err = e as { message?: unknown; linePos?: { line: number; col: number }[] };
  const pos = err.linePos?.[0];
  // The library's own text, as it is (the CLI escapes it when it prints), without its own position.
  const why = String(err.message ?? e)
    .split('\n')[0]!
    .replace(/ at line \d+, column \d+:?$/, '');
  return new PkgError(
    RepoErrorCodes.CONFIG_INVALID,
    `${file}${pos ? ` line ${pos.line}, column ${pos.col}` : ''}: not valid YAML: ${why}`,
    {
      hint: 'fix the YAML syntax at the line named',
      cause: e,
      details: { file, ...(pos ? { line: pos.line, column: pos.col } : {}) },
    },
  );
}

/** A configuration file in whichever format it is, as our keys (plus what an Enstaller file adds). */
interface ReadConfig {
  readonly data: Obj;
  readonly format: 'enpkg' | 'enstaller4rc' | 'enstaller-yaml';
  readonly translated: TranslatedConfig | null;
}

function readConfigFile(file: string): ReadConfig {
  const text = readConfigText(file);
  if (looksLikePython(file, text)) {
    const translated = translateEnstaller4rc(text, file);
    return { data: translated.data, format: 'enstaller4rc', translated };
  }
  const data = parseYamlConfig(text, file);
  if (isEnstallerYaml(data)) {
    const translated = translateEnstallerYaml(data, file);
    return { data: translated.data, format: 'enstaller-yaml', translated };
  }
  return { data, format: 'enpkg', translated: null };
}

/** An Enstaller file's content in our keys, with its secrets (for config --import-enstaller). */
export function readTranslatedConfig(file: string): TranslatedConfig {
  const read = readConfigFile(file);
  if (read.translated === null) throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${file} is not an Enstaller configuration`);
  return read.translated;
}

function readConfigText(file: string): string {
  let text: string;
  try {
    text = readRegularFileSync(file).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PkgError(
      code === 'ENOENT' ? RepoErrorCodes.CONFIG_NOT_FOUND : RepoErrorCodes.CONFIG_INVALID,
      `cannot read configuration ${file}: ${code === 'ENOENT' ? 'no such file' : readFailure(e)}`,
      {
        hint: 'check the path given by --config or ENPKG_CONFIG',
        cause: e,
        details: { file },
      },
    );
  }
  return text;
}

/** Our YAML (or Enstaller's): a mapping at the top level. */
export function parseYamlConfig(text: string, file: string): Obj {
  let doc: ReturnType<typeof parseDocument>;
  let data: unknown;
  try {
    doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    if (doc.errors.length > 0) throw doc.errors[0];
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (e) {
    if (e instanceof ReferenceError && /alias/i.test(e.message)) {
      throw new PkgError(
        RepoErrorCodes.CONFIG_INVALID,
        `${file}: not valid YAML: its aliases expand to more than ${MAX_ALIAS_COUNT} copies (${e.message})`,
        { hint: 'write the values out instead of repeating aliases (&name / *name)', cause: e, details: { file } },
      );
    }
    throw yamlError(file, e);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${file}: expected a mapping of keys at the top level`, {
      hint: 'see "enpkg config --help" for the keys',
      details: { file },
    });
  }
  // `python: 3.10` is a number to YAML (3.1): keep the digits as written.
  const python = doc.get('python', true) as { source?: unknown } | undefined;
  if (typeof (data as Obj).python === 'number' && python && typeof python.source === 'string') (data as Obj).python = python.source;
  return data as Obj;
}

/** Enstaller's configuration file name, read from the prefix and then from home. */
export const ENSTALLER4RC = '.enstaller4rc';

/** The user's configuration file of ours: `$XDG_CONFIG_HOME/enpkg/config.yaml` (default `~/.config/...`). */
export function userConfigFile(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME) ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(xdg, 'enpkg', 'config.yaml');
}

/** `--user`'s prefix: `$XDG_DATA_HOME/enpkg/prefix` (default `~/.local/share/enpkg/prefix`). */
export function userPrefix(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env.XDG_DATA_HOME && isAbsolute(env.XDG_DATA_HOME) ? env.XDG_DATA_HOME : join(home, '.local', 'share');
  return join(xdg, 'enpkg', 'prefix');
}

/** The prefix given on the command line or in the environment (not yet the file's), and where from. */
function givenPrefix(opts: LoadConfigOptions): [string, string] | null {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const chosen = [opts.prefix !== undefined && '--prefix', opts.user && '--user', opts.sysPrefix && '--sys-prefix'].filter(Boolean);
  if (chosen.length > 1) {
    throw new PkgError(ErrorCodes.USAGE, `give one of ${chosen.join(' and ')}: each names the prefix`, { hint: 'leave all but one out' });
  }
  if (opts.prefix) return [resolve(cwd, expandHome(opts.prefix, home)), '--prefix'];
  if (opts.user) return [userPrefix(env, home), '--user'];
  if (opts.sysPrefix) {
    if (!env.ENPKG_HOME) {
      throw new PkgError(ErrorCodes.USAGE, '--sys-prefix: enpkg is not running from a prefix (no bin/enpkg launcher started it)', {
        hint: "run the prefix's own bin/enpkg, or give --prefix DIR",
      });
    }
    return [resolve(cwd, env.ENPKG_HOME), '--sys-prefix (the launcher, ENPKG_HOME)'];
  }
  if (env.ENPKG_PREFIX) return [resolve(cwd, expandHome(env.ENPKG_PREFIX, home)), 'ENPKG_PREFIX'];
  if (env.ENPKG_HOME) return [resolve(cwd, env.ENPKG_HOME), 'the launcher (ENPKG_HOME)'];
  return null;
}

/**
 * Which file to read, or null: --config, $ENPKG_CONFIG, <prefix>/.enpkg/config.yaml, the user's
 * config.yaml, <prefix>/.enstaller4rc, ~/.enstaller4rc. With --sys-config: the prefix's files only.
 */
export function findConfigFile(opts: LoadConfigOptions): string | null {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  if (opts.configFile) return resolve(cwd, opts.configFile);
  if (env.ENPKG_CONFIG && !opts.sysConfig) return resolve(cwd, env.ENPKG_CONFIG);
  const prefix = givenPrefix(opts)?.[0];
  if (opts.sysConfig && !prefix) {
    throw new PkgError(ErrorCodes.USAGE, '--sys-config: no prefix is given, so there is no prefix configuration to read', {
      hint: "give --prefix DIR (or run the prefix's own bin/enpkg)",
    });
  }
  const candidates = opts.sysConfig
    ? [join(prefix!, '.enpkg', 'config.yaml'), join(prefix!, ENSTALLER4RC)]
    : [
        ...(prefix ? [join(prefix, '.enpkg', 'config.yaml')] : []),
        userConfigFile(env, home),
        ...(prefix ? [join(prefix, ENSTALLER4RC)] : []),
        join(home, ENSTALLER4RC),
      ];
  return candidates.find((f) => existsSync(f)) ?? null;
}

function defaultCacheDir(env: NodeJS.ProcessEnv, home: string): string {
  const xdg = env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : join(home, '.cache');
  return join(xdg, 'enpkg');
}

function commandLineRepos(
  texts: readonly string[],
  configured: readonly RepositoryConfig[],
  cwd: string,
  home: string,
): RepositoryConfig[] {
  return texts.map((text) => {
    const byName = configured.find((r) => r.name === text);
    if (byName) return byName;
    // The text may carry a password (https://user:password@host/): never show it as typed.
    const where = `--repo ${JSON.stringify(redactLocationText(text))}`;
    // A configured insecure repository may be named by its http URL; otherwise http is refused below.
    const insecureMatch = configured.find((r) => r.insecure && r.location.kind === 'http' && r.location.url === withSlash(text));
    const location = parseLocation(text, { baseDir: cwd, where, insecure: insecureMatch !== undefined, home });
    const byLocation = configured.find((r) => locationKey(r.location) === locationKey(location));
    if (byLocation) return byLocation;
    return {
      name: describeLocation(location),
      location,
      mirrors: [] as RepoLocation[],
      keys: [],
      insecure: false,
      auth: null,
      origin: '--repo',
    };
  });
}

function withSlash(text: string): string {
  return text.endsWith('/') ? text : `${text}/`;
}

/** The effective configuration. Errors name the file and the key. */
export function loadConfig(opts: LoadConfigOptions = {}): EnpkgConfig {
  for (const [what, value] of [
    ['--prefix', opts.prefix],
    ['--config', opts.configFile],
    ['--proxy', opts.proxy],
  ] as const) {
    if (value !== undefined && value.trim() === '') {
      throw new PkgError(ErrorCodes.USAGE, `${what} cannot be empty`, { hint: `give ${what} a value, or leave it out` });
    }
  }
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const home = opts.home ?? homedir();
  const file = findConfigFile(opts);
  const read: ReadConfig = file ? readConfigFile(file) : { data: {}, format: 'enpkg', translated: null };
  const { data, translated } = read;
  const c: Checker = new Checker(file ?? '<defaults>', home, translated !== null);
  const baseDir = file ? dirname(file) : cwd;
  c.known(data, CONFIG_KEYS, '');

  // The file's own auth for every http(s) repository without one (Enstaller's EPD_auth, our top-level auth).
  const sharedAuth = translated?.auth ?? (data.auth === undefined ? null : auth(data.auth, 'auth', c, baseDir));
  const configured =
    data.repositories === undefined
      ? []
      : (() => {
          if (!Array.isArray(data.repositories))
            c.fail('repositories', `expected a list, got ${describe(data.repositories)}`, 'write one "- url: ..." item per repository');
          return (data.repositories as unknown[]).map((r, i) => repository(r, i, c, baseDir));
        })();
  const repositories = configured.map((r) =>
    r.auth === null && sharedAuth && r.location.kind === 'http' ? { ...r, auth: sharedAuth } : r,
  );
  const seen = new Set<string>();
  for (const [i, r] of repositories.entries()) {
    if (seen.has(r.name)) c.fail(`repositories[${i}].name`, `the name "${r.name}" is used twice`, 'give each repository its own name');
    seen.add(r.name);
  }

  let [prefix, prefixSource]: [string | null, string | null] = givenPrefix(opts) ?? [null, null];
  if (prefix === null && data.prefix !== undefined)
    [prefix, prefixSource] = [resolve(baseDir, expandHome(c.string(data.prefix, 'prefix'), home)), c.file];

  let python: string | null = null;
  if (data.python !== undefined && data.python !== null) {
    const p: unknown = data.python;
    if (typeof p !== 'string' || !/^\d+\.\d+$/.test(p))
      c.fail(
        'python',
        `expected a Python version X.Y, got ${describe(data.python)}`,
        'e.g. python: "3.11" (quoted, so that YAML keeps it a string)',
      );
    python = p;
  }

  const fileNetwork = data.network === undefined ? DEFAULT_NETWORK : network(data.network, c, baseDir);
  const fileProxy = translated?.proxy ? parseProxy(translated.proxy, `${c.file}: proxy`) : fileNetwork.proxy;
  if (opts.maxRetries !== undefined && (!Number.isInteger(opts.maxRetries) || opts.maxRetries < 0 || opts.maxRetries > 20)) {
    throw new PkgError(ErrorCodes.USAGE, `--max-retries: expected a whole number from 0 to 20, got ${String(opts.maxRetries)}`);
  }
  const networkSettings: NetworkSettings = {
    ...fileNetwork,
    proxy: opts.proxy !== undefined ? parseProxy(opts.proxy, '--proxy') : fileProxy,
    verifyTls: opts.insecure ? false : fileNetwork.verifyTls,
    retries: opts.maxRetries ?? fileNetwork.retries,
  };
  const warnings: ConfigWarning[] = (translated?.warnings ?? []).map((w) => ({ key: w.key, message: `${c.file}: ${w.message}` }));

  return {
    file,
    prefix,
    prefixSource,
    python,
    pythonExecutable:
      data.python_executable === undefined || data.python_executable === null
        ? null
        : pythonExecutable(c.string(data.python_executable, 'python_executable'), baseDir, home),
    cacheDir:
      data.cache_dir === undefined ? defaultCacheDir(env, home) : resolve(baseDir, expandHome(c.string(data.cache_dir, 'cache_dir'), home)),
    parallelDownloads: data.parallel_downloads === undefined ? 4 : c.number(data.parallel_downloads, 'parallel_downloads', 1, 64, true),
    scriptTimeoutSeconds: data.script_timeout === undefined ? 300 : c.number(data.script_timeout, 'script_timeout', 1, 86_400, false),
    store: data.store === undefined ? true : c.bool(data.store, 'store'),
    linkMode: data.link_mode === undefined ? defaultLinkMode() : c.choice(data.link_mode, 'link_mode', LINK_MODES),
    autoupdate: opts.noAutoupdate ? false : data.autoupdate === undefined ? false : c.bool(data.autoupdate, 'autoupdate'),
    network: networkSettings,
    repositories: opts.repos && opts.repos.length > 0 ? commandLineRepos(opts.repos, repositories, cwd, home) : repositories,
    format: file ? read.format : null,
    warnings,
  };
}

/** A path (relative to the file's directory, `~` expanded), or a bare name looked up on PATH when used. */
function pythonExecutable(value: string, baseDir: string, home: string): string {
  return value.includes('/') ? resolve(baseDir, expandHome(value, home)) : value;
}

/** A secret as `enpkg config` shows it: never its value, only where it comes from. */
export function showSecret(s: SecretSource): string {
  if ('value' in s) return `*** (written in ${s.from})`;
  return 'env' in s ? `*** (from $${s.env})` : `*** (from ${s.file})`;
}

function authToJson(a: AuthConfig | null): Record<string, string> | null {
  if (a === null) return null;
  if (a.kind === 'token') return { token: showSecret(a.token) };
  if (a.kind === 'credentials') return { credentials: showSecret(a.credentials) };
  return { user: typeof a.user === 'string' ? a.user : showSecret(a.user), password: showSecret(a.password) };
}

/** The effective configuration as plain data, secrets masked (for `enpkg config`). */
export function configToJson(cfg: EnpkgConfig): Record<string, unknown> {
  const proxy = cfg.network.proxy;
  return {
    file: cfg.file,
    format: cfg.format,
    prefix: cfg.prefix,
    prefix_source: cfg.prefixSource,
    python: cfg.python,
    python_executable: cfg.pythonExecutable,
    cache_dir: cfg.cacheDir,
    parallel_downloads: cfg.parallelDownloads,
    script_timeout: cfg.scriptTimeoutSeconds,
    store: cfg.store,
    link_mode: cfg.linkMode,
    autoupdate: cfg.autoupdate,
    network: {
      connect_timeout: cfg.network.connectTimeoutMs / 1000,
      idle_timeout: cfg.network.idleTimeoutMs / 1000,
      timeout: cfg.network.totalTimeoutMs / 1000,
      retries: cfg.network.retries,
      retry_delay: cfg.network.retryDelayMs / 1000,
      ca_file: cfg.network.caFile,
      max_index_size: cfg.network.maxIndexSize,
      proxy:
        proxy === null
          ? null
          : {
              url: proxy.url,
              user: proxy.user === null || typeof proxy.user === 'string' ? proxy.user : showSecret(proxy.user),
              password: proxy.password === null ? null : showSecret(proxy.password),
              origin: proxy.origin,
            },
      verify_ssl: cfg.network.verifyTls,
    },
    repositories: cfg.repositories.map((r) => ({
      name: r.name,
      [r.location.kind === 'dir' ? 'path' : 'url']: describeLocation(r.location),
      mirrors: r.mirrors.map(describeLocation),
      keys: r.keys,
      insecure: r.insecure,
      auth: authToJson(r.auth),
      origin: r.origin,
    })),
  };
}
