/**
 * Scenarios: a described universe and a request, for `enpkg solve` ("what would happen if").
 *
 *   packages:                      every package of the universe, as
 *     - "numpy 1.8.0-1"            "name version-build"
 *     - "pandas 0.18.0-1; depends (numpy 1.9.2-1, six >= 1.0, < 2.0)"
 *     - "pywin 1.0-1; platform win32; python 2.7; arch x86"     (ours: environment markers)
 *   installed: ["numpy 1.8.0-1"]   installed packages (usually also listed in packages)
 *   marked: [numpy]                installed packages the user asked for (default: all installed)
 *   remote: [numpy, pandas]        names whose packages are available (default: all)
 *   environment: {python: "2.7", platform: linux2, arch: amd64}       (ours, optional)
 *   request:
 *     - {operation: install, requirement: "pandas"}    install | remove | update | update_all
 *                                   (the original tool's: upgrade = update_all, soft_update = update,
 *                                   hard_update = update that fails unless it reaches the newest)
 *   transaction:                   the expected actions (the original tool's form), or
 *     - {kind: install, package: "pandas 0.18.0-1"}   install | remove | update | upgrade | downgrade
 *     - {kind: upgrade, from: "numpy 1.8.0-1", to: "numpy-1.9.2-1"}
 *   failure: ["cannot install pandas:", ...]          no solution expected (the message's lines)
 *
 * In `depends (...)`, an item that starts with an operator continues the previous requirement:
 * `six >= 1.0, < 2.0` is one requirement. Packages in `installed:`, `marked:` and the transaction may
 * be written `name version-build` or `name-version-build`. `description`, `decisions`,
 * `pretty_transaction` and comments are ignored.
 */
import { parse as parseYaml } from 'yaml';
import { EnpkgErrorCodes, PkgError } from './errors.js';
import { parseRequirement } from './requirement.js';
import type { Environment, Job, PackageInfo, ResolveRequest } from './types.js';
import { parseVersion } from './version.js';

export interface Scenario {
  readonly request: ResolveRequest;
  /** Every package described (available or not). */
  readonly packages: readonly PackageInfo[];
  readonly description?: string;
  /** What the file expects (`transaction:` or `failure:`), when it says. */
  readonly expectation?: Expectation;
}

export type ExpectedKind = 'install' | 'remove' | 'update' | 'upgrade' | 'downgrade';

export interface ExpectedAction {
  readonly kind: ExpectedKind;
  /** `name version-build`, lower-cased name (install, remove). */
  readonly package?: string;
  readonly from?: string;
  readonly to?: string;
}

export type Expectation =
  | { readonly kind: 'transaction'; readonly actions: readonly ExpectedAction[] }
  | { readonly kind: 'failure'; readonly lines: readonly string[] };

const KNOWN_KEYS = new Set([
  'packages',
  'installed',
  'marked',
  'remote',
  'request',
  'environment',
  'description',
  'transaction',
  'failure',
  'decisions',
  'pretty_transaction',
]);
const OPERATIONS = new Map<string, Job['kind']>([
  ['install', 'install'],
  ['remove', 'remove'],
  ['update', 'update'],
  ['soft_update', 'update'],
  ['hard_update', 'update'],
  ['update_all', 'update_all'],
  ['upgrade', 'update_all'],
]);
const KINDS = new Set<string>(['install', 'remove', 'update', 'upgrade', 'downgrade']);
const NAME = /^[A-Za-z0-9_.]+$/;

function scenarioError(source: string, where: string, why: string, cause?: unknown): PkgError {
  return new PkgError(EnpkgErrorCodes.SCENARIO_INVALID, `scenario ${source}: ${where}: ${why}`, {
    hint: 'see "enpkg solve --help" for the scenario format',
    cause,
    details: { scenario: source, where },
  });
}

function splitDepends(list: string): string[] {
  const out: string[] = [];
  for (const raw of list.split(',')) {
    const item = raw.trim();
    if (item === '') continue;
    if (/^[=!<>^~]/.test(item) && out.length > 0) out[out.length - 1] += `, ${item}`;
    else out.push(item);
  }
  return out;
}

/** Parse `name version-build[; depends (REQ, ...)][; python X][; platform X][; arch X]`. */
export function parsePackageString(text: string): PackageInfo {
  const [head = '', ...clauses] = text.split(';');
  const tokens = head.trim().split(/\s+/);
  if (tokens.length !== 2 || tokens[0] === '') {
    throw new PkgError(EnpkgErrorCodes.SCENARIO_INVALID, `"${head.trim()}" is not "name version-build"`);
  }
  const [name, versionText] = tokens as [string, string];
  if (!NAME.test(name)) throw new PkgError(EnpkgErrorCodes.SCENARIO_INVALID, `"${name}" is not a valid package name`);
  const version = parseVersion(versionText);
  let depends: string[] = [];
  const markers: { python?: string; platform?: string; arch?: string } = {};
  for (const clause of clauses) {
    const c = clause.trim();
    const dep = /^depends\s*\((.*)\)$/.exec(c);
    if (dep) {
      depends = splitDepends(dep[1]!);
      for (const d of depends) parseRequirement(d);
      continue;
    }
    const marker = /^(python|platform|arch)\s+(\S+)$/.exec(c);
    if (marker) {
      markers[marker[1] as 'python' | 'platform' | 'arch'] = marker[2]!;
      continue;
    }
    throw new PkgError(
      EnpkgErrorCodes.SCENARIO_INVALID,
      `unknown clause "${c}" (expected "depends (...)", "python X", "platform X" or "arch X")`,
    );
  }
  return { name, key: name.toLowerCase(), version: version.upstream, build: version.build, depends, ...markers };
}

function stringList(source: string, value: unknown, key: string): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw scenarioError(source, key, 'must be a list');
  return value.map((v, i) => {
    if (typeof v !== 'string' && typeof v !== 'number') throw scenarioError(source, `${key}[${i}]`, 'must be a string');
    return String(v);
  });
}

function withWhere<T>(source: string, where: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof PkgError && e.code !== EnpkgErrorCodes.SCENARIO_INVALID) throw scenarioError(source, where, e.message, e);
    if (e instanceof PkgError) throw scenarioError(source, where, e.message.replace(/^scenario [^:]*: /, ''), e);
    throw e;
  }
}

const idOf = (p: PackageInfo): string => `${p.key} ${p.version}-${p.build}`;

/** `name version-build` from `name version-build` or `name-version-build` (the original tool's two forms). */
function packageId(text: string): string {
  const t = text.trim();
  if (/\s/.test(t)) return t;
  const m = /^(.+?)-([^-]+-\d+)$/.exec(t);
  return m ? `${m[1]} ${m[2]}` : t;
}

/** A package as `installed:` or a transaction names it, normalised to `key version-build`. */
function normalId(source: string, where: string, text: string): string {
  return withWhere(source, where, () => idOf(parsePackageString(packageId(text))));
}

function expectationOf(source: string, top: Record<string, unknown>): Expectation | undefined {
  if (top.transaction !== undefined && top.failure !== undefined) {
    throw scenarioError(source, 'transaction', 'a scenario expects a transaction or a failure, not both');
  }
  if (top.failure !== undefined && top.failure !== null) {
    const f = top.failure;
    const lines = typeof f === 'string' ? f.split('\n') : stringList(source, f, 'failure');
    return { kind: 'failure', lines };
  }
  if (top.transaction === undefined) return undefined;
  const list = top.transaction ?? [];
  if (!Array.isArray(list)) throw scenarioError(source, 'transaction', 'must be a list of {kind, package} or {kind, from, to}');
  const actions = list.map((entry: unknown, i: number): ExpectedAction => {
    const where = `transaction[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry)) throw scenarioError(source, where, 'must be a mapping');
    const e = entry as Record<string, unknown>;
    if (typeof e.kind !== 'string' || !KINDS.has(e.kind)) {
      throw scenarioError(source, where, `kind must be one of ${[...KINDS].join(', ')} (got ${JSON.stringify(e.kind)})`);
    }
    const kind = e.kind as ExpectedKind;
    const field = (k: string): string => {
      if (typeof e[k] !== 'string') throw scenarioError(source, where, `${kind} needs ${k}: "name version-build"`);
      return normalId(source, `${where}.${k}`, e[k] as string);
    };
    if (kind === 'install' || kind === 'remove') return { kind, package: field('package') };
    return { kind, from: field('from'), to: field('to') };
  });
  return { kind: 'transaction', actions };
}

/** Parse a scenario's YAML text; `source` names it in errors. */
export function parseScenario(text: string, source: string): Scenario {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw scenarioError(source, 'YAML', (e as Error).message.split('\n')[0]!, e);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw scenarioError(source, 'top level', 'must be a mapping');
  const top = doc as Record<string, unknown>;
  for (const k of Object.keys(top)) {
    if (!KNOWN_KEYS.has(k)) throw scenarioError(source, k, `unknown key (expected one of ${[...KNOWN_KEYS].join(', ')})`);
  }

  const packages: PackageInfo[] = [];
  const byId = new Map<string, PackageInfo[]>();
  stringList(source, top.packages, 'packages').forEach((s, i) => {
    // The same name-version-build may be listed twice (other metadata): two candidates.
    const p = withWhere(source, `packages[${i}] "${s}"`, () => parsePackageString(s));
    const same = byId.get(idOf(p));
    if (same) same.push(p);
    else byId.set(idOf(p), [p]);
    packages.push(p);
  });

  const installed: PackageInfo[] = [];
  const installedKeys = new Map<string, PackageInfo>();
  stringList(source, top.installed, 'installed').forEach((s, i) => {
    const where = `installed[${i}] "${s}"`;
    const described = withWhere(source, where, () => parsePackageString(packageId(s)));
    // Listed twice: the one with the dependencies given here (the first when none are given).
    const listed = byId.get(idOf(described)) ?? [];
    const same = (q: PackageInfo) => q.depends.length === described.depends.length && q.depends.every((d, j) => d === described.depends[j]);
    const p = (described.depends.length > 0 ? listed.find(same) : undefined) ?? listed[0] ?? described;
    const other = installedKeys.get(p.key);
    if (other)
      throw scenarioError(
        source,
        where,
        `${other.name} is already installed in another version (only one version of a package can be installed)`,
      );
    installedKeys.set(p.key, p);
    installed.push(p);
  });

  let marked: string[] | undefined;
  if (top.marked !== undefined && top.marked !== null) {
    marked = stringList(source, top.marked, 'marked').map((m, i) => {
      // A name, or (the original tool's form) an installed package.
      const key = (/^[A-Za-z0-9_.]+$/.test(m) ? m : normalId(source, `marked[${i}]`, m).split(' ')[0]!).toLowerCase();
      if (!installedKeys.has(key)) throw scenarioError(source, `marked[${i}] "${m}"`, 'not installed');
      return key;
    });
  }

  let available: PackageInfo[] = packages;
  if (top.remote !== undefined && top.remote !== null) {
    const remote = new Set(stringList(source, top.remote, 'remote').map((r) => r.toLowerCase()));
    available = packages.filter((p) => remote.has(p.key));
  }

  let environment: Environment | undefined;
  if (top.environment !== undefined && top.environment !== null) {
    const env = top.environment as Record<string, unknown>;
    if (typeof env !== 'object' || Array.isArray(env))
      throw scenarioError(source, 'environment', 'must be a mapping of python, platform, arch');
    const out: { python?: string; platform?: string; arch?: string } = {};
    for (const [k, v] of Object.entries(env)) {
      if (k !== 'python' && k !== 'platform' && k !== 'arch')
        throw scenarioError(source, `environment.${k}`, 'unknown key (expected python, platform or arch)');
      if (v !== null && v !== undefined) out[k] = String(v);
    }
    environment = out;
  }

  if (!Array.isArray(top.request)) throw scenarioError(source, 'request', 'must be a list of {operation, requirement}');
  let strict = false;
  const jobs: Job[] = top.request.map((entry: unknown, i: number): Job => {
    const where = `request[${i}]`;
    if (entry === null || typeof entry !== 'object' || Array.isArray(entry))
      throw scenarioError(source, where, 'must be a mapping {operation, requirement}');
    const e = entry as Record<string, unknown>;
    const op = e.operation;
    const kind = typeof op === 'string' ? OPERATIONS.get(op) : undefined;
    if (kind === undefined) {
      throw scenarioError(source, where, `operation must be one of ${[...OPERATIONS.keys()].join(', ')} (got ${JSON.stringify(op)})`);
    }
    if (op === 'hard_update') strict = true;
    if (kind === 'update_all') return { kind: 'update_all' };
    if (typeof e.requirement !== 'string') throw scenarioError(source, where, `${op} needs a requirement string`);
    const requirement = withWhere(source, where, () => parseRequirement(e.requirement as string, { commandLine: true }));
    return { kind, requirement };
  });
  const expectation = expectationOf(source, top);

  const request: ResolveRequest = {
    available,
    installed,
    ...(marked !== undefined ? { marked } : {}),
    jobs,
    ...(environment !== undefined ? { environment } : {}),
    ...(strict ? { strict } : {}),
  };
  return {
    request,
    packages,
    ...(typeof top.description === 'string' ? { description: top.description } : {}),
    ...(expectation !== undefined ? { expectation } : {}),
  };
}
