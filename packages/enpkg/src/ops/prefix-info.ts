/**
 * Enstaller's `--env`, `--imports` and `--whats-new`: the prefix and what enpkg reads of the
 * environment; which installed packages the prefix's Python can import (egginst's pythonFinder: the
 * prefix's bin/python, else python3 on PATH); which installed packages have a newer version that fits.
 * No session: they change nothing.
 */
import { execFileSync } from 'node:child_process';
import { listInstalled, readRecord, type Warning } from 'egginst/core';
import { ErrorCodes, PkgError } from '../errors.js';
import { environment, fitsEnvironment } from '../platform.js';
import { redactLocationText } from '../repo/location.js';
import { requirePrefix } from '../session.js';
import { compareVersions, versionOf } from '../version.js';
import { collecting } from './common.js';
import { loadIndexes } from './indexes.js';
import type { OperationOptions } from './types.js';

/** The environment variables enpkg reads (the proxy ones are shown with credentials redacted). */
export const ENVIRONMENT_VARIABLES = [
  'ENPKG_PREFIX',
  'ENPKG_CONFIG',
  'ENPKG_HOME',
  'ENPKG_DEBUG',
  'XDG_CONFIG_HOME',
  'XDG_CACHE_HOME',
  'XDG_DATA_HOME',
  'HTTPS_PROXY',
  'https_proxy',
  'HTTP_PROXY',
  'http_proxy',
  'NO_PROXY',
  'no_proxy',
  'NODE_EXTRA_CA_CERTS',
  'EGGINST_NO_SCRIPTS',
  'SOURCE_DATE_EPOCH',
] as const;

export interface EnvInfo {
  readonly prefix: string | null;
  readonly prefixSource: string | null;
  readonly config: string | null;
  /** The prefix's Python (path and X.Y), or null when there is none. */
  readonly python: { readonly path: string; readonly version: string } | null;
  readonly variables: readonly { readonly name: string; readonly value: string }[];
}

async function findPython(prefix: string): Promise<{ path: string; version: string }> {
  const { pythonFinder } = await import('egginst');
  const py = pythonFinder(undefined, prefix);
  return { path: py.path(), version: py.version() };
}

export async function environmentInfo(opts: OperationOptions & { readonly env?: NodeJS.ProcessEnv }): Promise<EnvInfo> {
  const env = opts.env ?? process.env;
  const cfg = opts.config;
  let python: EnvInfo['python'] = null;
  if (cfg.prefix) {
    try {
      python = await findPython(cfg.prefix);
    } catch (e) {
      if (!(e instanceof PkgError)) throw e;
    }
  }
  const variables = ENVIRONMENT_VARIABLES.filter((n) => env[n] !== undefined).map((name) => ({
    name,
    value: /proxy/i.test(name) && name.toLowerCase() !== 'no_proxy' ? redactLocationText(env[name]!) : env[name]!,
  }));
  return { prefix: cfg.prefix, prefixSource: cfg.prefixSource, config: cfg.file, python, variables };
}

export interface ImportRow {
  readonly name: string;
  readonly version: string;
  /** The top-level modules the package installs into site-packages. */
  readonly modules: readonly string[];
  /** Where the prefix's Python finds the first of them, or null: not importable. */
  readonly location: string | null;
}

/** The top-level modules of a package: the first directory (or `x.py`, `x.so`) under site-packages. */
function topLevelModules(prefix: string, key: string): string[] {
  const rec = readRecord(prefix, key);
  const out = new Set<string>();
  for (const f of rec?.files ?? []) {
    const m = /(?:^|\/)site-packages\/([A-Za-z_][A-Za-z0-9_]*)(?:\/|\.py$|(?:\.[^/]*)?\.so$)/.exec(f);
    if (m) out.add(m[1]!);
  }
  return [...out].sort();
}

const FIND_SPECS = `
import importlib.util, sys
for name in sys.argv[1:]:
    try:
        spec = importlib.util.find_spec(name)
    except Exception:
        spec = None
    print(name + "\\t" + ((spec.origin or "namespace") if spec else ""))
`;

/** Which installed packages the prefix's Python can import. */
export async function importable(opts: OperationOptions): Promise<{ readonly python: string; readonly packages: readonly ImportRow[] }> {
  const prefix = requirePrefix(opts.config);
  const python = await findPython(prefix);
  const rows = listInstalled(prefix).map((p) => ({
    name: p.name,
    version: `${p.version}-${p.build}`,
    modules: topLevelModules(prefix, p.key),
  }));
  const names = [...new Set(rows.flatMap((r) => r.modules))];
  const found = new Map<string, string>();
  if (names.length) {
    let out: string;
    try {
      out = execFileSync(python.path, ['-E', '-c', FIND_SPECS, ...names], {
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/' },
      });
    } catch (e) {
      throw new PkgError(
        ErrorCodes.PYTHON_NOT_FOUND,
        `${python.path} could not be asked what it imports: ${(e as Error).message.split('\n')[0]}`,
        {
          hint: "check the prefix's Python",
          cause: e,
        },
      );
    }
    for (const line of out.split('\n')) {
      const [name, origin] = line.split('\t');
      if (name && origin) found.set(name, origin);
    }
  }
  return {
    python: python.path,
    packages: rows
      .map((r) => ({ ...r, location: r.modules.map((m) => found.get(m)).find((o) => o !== undefined) ?? null }))
      .sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase())),
  };
}

export interface WhatsNewRow {
  readonly name: string;
  readonly installed: string;
  readonly available: string;
}

/** Installed packages with a newer version in the repositories that suits this machine and Python. */
export async function whatsNew(
  opts: OperationOptions,
): Promise<{ readonly packages: readonly WhatsNewRow[]; readonly warnings: readonly Warning[] }> {
  const prefix = requirePrefix(opts.config);
  const { reporter, warnings } = collecting(opts.reporter);
  const repos = await loadIndexes({
    config: opts.config,
    reporter,
    offline: opts.offline === true,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const env = environment(opts.config.python);
  const entries = repos.flatMap((r) => r.index.entries).filter((e) => fitsEnvironment(e, env));
  const packages: WhatsNewRow[] = [];
  for (const p of listInstalled(prefix)) {
    const mine = versionOf(p.version, p.build);
    const newest = entries
      .filter((e) => e.key === p.key)
      .sort((a, b) => compareVersions(versionOf(b.version, b.build), versionOf(a.version, a.build)))[0];
    if (newest && compareVersions(versionOf(newest.version, newest.build), mine) > 0) {
      packages.push({ name: p.name, installed: `${p.version}-${p.build}`, available: `${newest.version}-${newest.build}` });
    }
  }
  return { packages: packages.sort((a, b) => a.name.toLowerCase().localeCompare(b.name.toLowerCase())), warnings };
}
