/**
 * `enpkg search [REGEX]` and `enpkg info NAME`: what the repositories offer, and what is installed.
 */
import type { Command } from 'commander';
import type { InfoResult, SearchRow } from '../repo/query.js';
import { addConfigOptions, type CliContext, type ConfigOptions, run } from './common.js';
import { formatSize } from './render.js';

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
        (
          pad(i === 0 ? r.name : '', nameWidth) +
          pad(`${v.version}-${v.build}`, verWidth) +
          pad(v.repository, repoWidth) +
          (v.installed ? 'installed' : '')
        ).trimEnd(),
      );
    });
  }
  return `${lines.join('\n')}\n`;
}

function formatInfo(info: InfoResult): string {
  const lines = [`Package: ${info.name}`, `Installed: ${info.installed ? `${info.installed.version}-${info.installed.build}` : 'no'}`];
  for (const p of info.packages) {
    lines.push('', `${p.version}-${p.build}${p.installed ? '  (installed)' : ''}`);
    lines.push(`  repository: ${p.repository}`, `  file:       ${p.eggName} (${formatSize(p.size)})`);
    if (p.sha256) lines.push(`  sha256:     ${p.sha256}`);
    else if (p.md5) lines.push(`  md5:        ${p.md5} (legacy index: md5 only)`);
    const env = [
      p.python ? `python ${p.python}` : null,
      p.platform ? `platform ${p.platform}` : null,
      p.arch ? `arch ${p.arch}` : null,
    ].filter(Boolean);
    if (env.length) lines.push(`  for:        ${env.join(', ')}`);
    lines.push(`  requires:   ${p.depends.length ? p.depends.join(', ') : '(nothing)'}`);
    if (p.summary) lines.push(`  summary:    ${p.summary}`);
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
  addConfigOptions(search, { offline: true }).action(async (pattern: string | undefined, opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { search: find } = await import('../ops/query.js');
      const r = await find({ ...scope.operation(scope.config()), ...(pattern !== undefined ? { pattern } : {}) });
      if (opts.json) ctx.o.json({ ok: true, packages: r.packages, repositories: r.repositories, warnings: r.warnings });
      else ctx.o.out(formatSearch(r.packages));
    }),
  );

  const info = program
    .command('info')
    .description('every version of a package across the repositories: dependencies, size, repository')
    .argument('<name>', 'the package name (case-insensitive)')
    .addHelpText('after', INFO_HELP);
  addConfigOptions(info, { offline: true }).action(async (name: string, opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { info: describe } = await import('../ops/query.js');
      const r = await describe({ ...scope.operation(scope.config()), name });
      if (opts.json) ctx.o.json({ ok: true, ...r.info, repositories: r.repositories, warnings: r.warnings });
      else ctx.o.out(formatInfo(r.info));
    }),
  );
}
