/**
 * `enpkg search [REGEX]` and `enpkg info NAME`: what the repositories offer, and what is installed.
 */
import type { Command } from 'commander';
import { listInstalled } from 'egginst/core';
import { loadRepositories } from '../repo/load.js';
import { packageInfo, searchPackages, type InfoResult, type InstalledRef, type SearchRow } from '../repo/query.js';
import type { EnpkgConfig, LoadedRepository } from '../repo/types.js';
import { addConfigOptions, cliReporter, configFrom, formatSize, runJsonAware, safe, toJson, type ConfigOptions } from './common.js';
import type { CliContext } from './main.js';

function installedIn(config: EnpkgConfig): InstalledRef[] {
  return config.prefix ? listInstalled(config.prefix).map((p) => ({ key: p.key, name: p.name, version: p.version, build: p.build })) : [];
}

async function load(
  ctx: CliContext,
  opts: ConfigOptions,
): Promise<{ config: EnpkgConfig; repos: LoadedRepository[]; installed: InstalledRef[]; warnings: unknown[] }> {
  const config = configFrom(opts);
  const reporter = cliReporter(ctx, opts);
  const repos = await loadRepositories(config, { offline: opts.offline === true, reporter });
  return { config, repos, installed: installedIn(config), warnings: reporter.warnings };
}

/** What --json says about each repository: where its index came from and what it holds. */
function reposJson(repos: readonly LoadedRepository[]): unknown[] {
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

function pad(s: string, n: number): string {
  return s.length >= n ? `${s} ` : s.padEnd(n);
}

function formatSearch(rows: readonly SearchRow[]): string {
  if (rows.length === 0) return 'No package matches.\n';
  const nameWidth = Math.min(30, Math.max(4, ...rows.map((r) => r.name.length)) + 2);
  const verWidth = Math.min(24, Math.max(7, ...rows.flatMap((r) => r.versions.map((v) => `${v.version}-${v.build}`.length))) + 2);
  const repoWidth = Math.min(30, Math.max(10, ...rows.flatMap((r) => r.versions.map((v) => v.repository.length))) + 2);
  const lines = [
    `${pad('Name', nameWidth)}${pad('Version', verWidth)}${pad('Repository', repoWidth)}Note`,
    '='.repeat(nameWidth + verWidth + repoWidth + 9),
  ];
  for (const r of rows) {
    if (r.versions.length === 0)
      lines.push(`${pad(r.name, nameWidth)}${pad(r.installed ?? '', verWidth)}${pad('-', repoWidth)}installed (in no repository)`);
    r.versions.forEach((v, i) => {
      lines.push(
        `${pad(i === 0 ? r.name : '', nameWidth)}${pad(`${v.version}-${v.build}`, verWidth)}${pad(safe(v.repository), repoWidth)}${v.installed ? 'installed' : ''}`.trimEnd(),
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

function formatInfo(info: InfoResult): string {
  const lines = [`Package: ${info.name}`, `Installed: ${info.installed ? `${info.installed.version}-${info.installed.build}` : 'no'}`];
  for (const p of info.packages) {
    lines.push('', `${p.version}-${p.build}${p.installed ? '  (installed)' : ''}`);
    lines.push(`  repository: ${safe(p.repository)}`, `  file:       ${p.eggName} (${formatSize(p.size)})`);
    if (p.sha256) lines.push(`  sha256:     ${p.sha256}`);
    else if (p.md5) lines.push(`  md5:        ${p.md5} (legacy index: md5 only)`);
    const env = [
      p.python ? `python ${p.python}` : null,
      p.platform ? `platform ${p.platform}` : null,
      p.arch ? `arch ${p.arch}` : null,
    ].filter(Boolean);
    if (env.length) lines.push(`  for:        ${env.join(', ')}`);
    lines.push(`  requires:   ${p.depends.length ? p.depends.map(safe).join(', ') : '(nothing)'}`);
    if (p.summary) lines.push(`  summary:    ${safe(p.summary)}`);
  }
  return `${lines.join('\n')}\n`;
}

const SEARCH_HELP = `
REGEX is a case-insensitive regular expression matched against package names; without it every
package is listed. With --json: {"ok": true, "packages": [{"name", "key", "installed": "1.0-1" | null,
"versions": [{"version", "build", "repository", "installed"}]}], "repositories": [{"name", "source",
"origin": "fetched" | "not-modified" | "cache", "format": "zst" | "legacy", "serial", "signed",
"packages"}], "warnings": [...]} (versions oldest first), or {"ok": false, "error": {...}}.`;

const INFO_HELP = `
With --json: {"ok": true, "name", "key", "installed": {"key", "name", "version", "build"} | null,
"packages": [{"name", "version", "build", "repository", "eggName", "size", "sha256", "md5", "python",
"platform", "arch", "depends", "summary", "installed"}], "repositories": [...as for search],
"warnings": [...]} (newest first).`;

export function registerSearch(program: Command, ctx: CliContext): void {
  const search = program
    .command('search')
    .description('list the packages whose names match REGEX, their versions, and which are installed')
    .argument('[regex]', 'a case-insensitive regular expression')
    .addHelpText('after', SEARCH_HELP);
  addConfigOptions(search, { offline: true }).action(async (pattern: string | undefined, opts: ConfigOptions) => {
    await runJsonAware(ctx, opts, async () => {
      const { config, repos, installed, warnings } = await load(ctx, opts);
      const rows = searchPackages(repos, installed, pattern, { python: config.python });
      ctx.io.stdout(opts.json ? toJson({ ok: true, packages: rows, repositories: reposJson(repos), warnings }) : formatSearch(rows));
    });
  });

  const info = program
    .command('info')
    .description('every version of a package across the repositories: dependencies, size, repository')
    .argument('<name>', 'the package name (case-insensitive)')
    .addHelpText('after', INFO_HELP);
  addConfigOptions(info, { offline: true }).action(async (name: string, opts: ConfigOptions) => {
    await runJsonAware(ctx, opts, async () => {
      const { config, repos, installed, warnings } = await load(ctx, opts);
      const result = packageInfo(repos, installed, name, { python: config.python });
      ctx.io.stdout(opts.json ? toJson({ ok: true, ...result, repositories: reposJson(repos), warnings }) : formatInfo(result));
    });
  });
}
