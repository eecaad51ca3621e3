/**
 * What the repositories offer: search and info, with what is installed beside it. No session: they
 * change nothing and need no lock; the installed set is read from the prefix's records.
 */
import { listInstalled, type Warning } from 'egginst/core';
import { compileSearchPattern, type InfoResult, type InstalledRef, packageInfo, type SearchRow, searchPackages } from '../repo/query.js';
import type { EnpkgConfig, LoadedRepository } from '../repo/types.js';
import { collecting } from './common.js';
import { loadIndexes } from './indexes.js';
import type { OperationOptions } from './types.js';

export interface RepositorySummary {
  readonly name: string;
  readonly source: string;
  readonly origin: string;
  readonly format: string;
  readonly serial: number | null;
  readonly signed: boolean;
  readonly packages: number;
}

interface Loaded {
  readonly repositories: readonly RepositorySummary[];
  readonly warnings: readonly Warning[];
}

function installedIn(config: EnpkgConfig): InstalledRef[] {
  return config.prefix ? listInstalled(config.prefix).map((p) => ({ key: p.key, name: p.name, version: p.version, build: p.build })) : [];
}

function summary(repos: readonly LoadedRepository[]): RepositorySummary[] {
  return repos.map((r) => ({
    name: r.config.name,
    source: r.source,
    origin: r.origin,
    format: r.index.format,
    serial: r.index.serial,
    signed: r.signed,
    packages: r.index.entries.length,
  }));
}

async function load(
  opts: OperationOptions,
  match: (key: string) => boolean,
): Promise<{ repos: LoadedRepository[]; installed: InstalledRef[]; warnings: Warning[] }> {
  const { reporter, warnings } = collecting(opts.reporter);
  const repos = await loadIndexes({
    config: opts.config,
    reporter,
    want: { kind: 'match', match },
    offline: opts.offline === true,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  return { repos, installed: installedIn(opts.config), warnings };
}

export async function search(opts: OperationOptions & { readonly pattern?: string }): Promise<Loaded & { readonly packages: SearchRow[] }> {
  const re = compileSearchPattern(opts.pattern);
  const { repos, installed, warnings } = await load(opts, (key) => re === null || re.test(key));
  const packages = searchPackages(repos, installed, opts.pattern, { python: opts.config.python });
  return { packages, repositories: summary(repos), warnings };
}

export async function info(opts: OperationOptions & { readonly name: string }): Promise<Loaded & { readonly info: InfoResult }> {
  const key = opts.name.toLowerCase();
  const { repos, installed, warnings } = await load(opts, (k) => k === key);
  return { info: packageInfo(repos, installed, opts.name, { python: opts.config.python }), repositories: summary(repos), warnings };
}
