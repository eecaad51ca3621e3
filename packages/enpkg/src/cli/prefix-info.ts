/**
 * `enpkg whats-new`, `enpkg env`, `enpkg imports` (Enstaller's --whats-new, --env, --imports): what
 * the operations in ops/prefix-info.ts return, in Enstaller's table shapes.
 */
import type { Command } from 'commander';
import { addConfigOptions, type CliContext, type ConfigOptions, run } from './common.js';

const row = (cells: readonly string[], widths: readonly number[]): string =>
  cells
    .map((c, i) => (i < widths.length ? c.padEnd(widths[i]!) : c))
    .join(' ')
    .trimEnd();

/** Enstaller's table: the header, a rule of 60 "=", the rows, each column but the last padded to its width. */
const table = (header: readonly string[], widths: readonly number[], rows: readonly (readonly string[])[]): string =>
  `${[row(header, widths), '='.repeat(60), ...rows.map((r) => row(r, widths))].join('\n')}\n`;

export function registerPrefixInfo(program: Command, ctx: CliContext): void {
  addConfigOptions(program.command('whats-new').description('the installed packages that have a newer version in the repositories'), {
    offline: true,
  }).action(async (opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { whatsNew } = await import('../ops/prefix-info.js');
      const r = await whatsNew(scope.operation(scope.config()));
      if (opts.json) {
        ctx.o.json({ ok: true, packages: r.packages, warnings: r.warnings });
        return;
      }
      if (r.packages.length === 0) {
        ctx.o.out('No new version of any installed package is available.\n');
        return;
      }
      const rows = r.packages.map((p) => [p.name, p.installed, p.available]);
      ctx.o.out(table(['Name', 'installed', 'available'], [25, 20], rows));
    }),
  );
  addConfigOptions(
    program.command('env').description('the prefix, its Python, the configuration file and the environment variables enpkg reads'),
    { offline: false },
  ).action(async (opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { environmentInfo } = await import('../ops/prefix-info.js');
      const r = await environmentInfo(scope.operation(scope.config()));
      if (opts.json) {
        ctx.o.json({ ok: true, ...r });
        return;
      }
      const lines = [
        `prefix:        ${r.prefix ?? '(none)'}${r.prefixSource ? ` (from ${r.prefixSource})` : ''}`,
        `python:        ${r.python ? `${r.python.path} (${r.python.version})` : '(none found)'}`,
        `configuration: ${r.config ?? '(none: defaults)'}`,
        'environment:',
        ...(r.variables.length ? r.variables.map((v) => `    ${v.name}=${v.value}`) : ['    (none of the variables enpkg reads is set)']),
      ];
      ctx.o.out(`${lines.join('\n')}\n`);
    }),
  );
  addConfigOptions(program.command('imports').description("which installed packages the prefix's Python can import"), {
    offline: false,
  }).action(async (opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { importable } = await import('../ops/prefix-info.js');
      const r = await importable(scope.operation(scope.config()));
      if (opts.json) {
        ctx.o.json({ ok: true, ...r });
        return;
      }
      const rows = r.packages.map((p) => [p.name, p.version, p.location ?? (p.modules.length ? '-' : '(no Python modules)')]);
      ctx.o.out(table(['Name', 'Version', 'Location'], [25, 15], rows));
    }),
  );
}
