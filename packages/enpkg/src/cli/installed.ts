/**
 * Commands about what is installed: list, freeze, history, verify, mark.
 */
import type { Command } from 'commander';
import type { VerifyResult } from 'egginst/core';
import { ErrorCodes, PkgError } from '../errors.js';
import type { Revision } from '../state/db.js';
import { addConfigOptions, type CliContext, type ConfigOptions, run } from './common.js';

function sessionOptions(cmd: Command): Command {
  return addConfigOptions(cmd, { offline: false }).option('--wait', 'wait for another enpkg or egginst working on the prefix');
}

/** Enstaller's --log shape: a header per revision, then the full set (revision 0) or +/- lines. */
export function formatHistory(revisions: readonly Revision[]): string {
  const out: string[] = [];
  let previous: string[] = [];
  for (const r of revisions) {
    const time = r.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
    out.push(`==> ${time} <== revision ${r.id} (${r.user}): ${r.command}`);
    if (r.id === 0) out.push(...r.installed);
    else if (r.kind === 'self-update') {
      // enpkg itself: not one of the installed packages, so its change is shown as recorded.
      for (const c of r.changes) {
        if (c.kind === 'update') out.push(`-${c.from.eggName}`, `+${c.to.eggName}`);
        else out.push(`${c.kind === 'install' ? '+' : '-'}${c.eggName}`);
      }
    } else {
      const before = new Set(previous);
      const after = new Set(r.installed);
      for (const e of previous) if (!after.has(e)) out.push(`-${e}`);
      for (const e of r.installed) if (!before.has(e)) out.push(`+${e}`);
    }
    previous = r.installed;
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

function formatVerify(results: readonly VerifyResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.problems.length === 0) continue;
    for (const p of r.problems) lines.push(`${r.key}: ${p.problem.padEnd(8)} ${p.path}${p.detail ? ` (${p.detail})` : ''}`);
  }
  const bad = results.filter((r) => r.problems.length).length;
  lines.push(bad ? `${bad} of ${results.length} packages have changed or missing files.` : `All ${results.length} packages are intact.`);
  return `${lines.join('\n')}\n`;
}

export function registerInstalled(program: Command, ctx: CliContext): void {
  sessionOptions(
    program
      .command('list')
      .description('list the installed packages (those whose names match PATTERN)')
      .argument('[pattern]', 'a case-insensitive regular expression'),
  ).action(async (pattern: string | undefined, opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { listPackages } = await import('../ops/installed.js');
      const { prefix, packages: rows } = await listPackages({
        ...scope.operation(scope.config()),
        ...(pattern !== undefined ? { pattern } : {}),
      });
      if (opts.json) {
        const packages = rows.map((r) => ({
          name: r.name,
          key: r.key,
          version: r.version,
          build: r.build,
          eggName: r.eggName,
          repository: r.repository,
          marked: r.marked,
          installedAt: r.installedAt,
        }));
        ctx.o.json({ ok: true, prefix, packages });
        return;
      }
      if (rows.length === 0) {
        ctx.o.out(pattern === undefined ? `No packages installed in ${prefix}.\n` : `No installed package matches ${pattern}.\n`);
        return;
      }
      const w = Math.max(4, ...rows.map((r) => r.name.length)) + 2;
      const v = Math.max(7, ...rows.map((r) => `${r.version}-${r.build}`.length)) + 2;
      const line = (r: (typeof rows)[number]): string =>
        `${r.name.padEnd(w)}${`${r.version}-${r.build}`.padEnd(v)}${r.marked ? 'manual' : 'auto  '}  ${r.repository ?? '-'}`;
      ctx.o.out(`${rows.map(line).join('\n')}\n`);
    }),
  );
  sessionOptions(
    program.command('freeze').description('print the installed packages as "name version-build" lines (for install -r)'),
  ).action(async (opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { listPackages } = await import('../ops/installed.js');
      const rows = (await listPackages(scope.operation(scope.config()))).packages;
      if (opts.json) ctx.o.json({ ok: true, packages: rows.map((r) => `${r.name} ${r.version}-${r.build}`) });
      else ctx.o.out(rows.map((r) => `${r.name} ${r.version}-${r.build}\n`).join(''));
    }),
  );
  sessionOptions(program.command('history').description("each revision and its changes (Enstaller's --log shape)")).action(
    async (opts: ConfigOptions) =>
      run(ctx, opts, async (scope) => {
        const { history } = await import('../ops/installed.js');
        const { revisions } = await history(scope.operation(scope.config()));
        if (opts.json) ctx.o.json({ ok: true, revisions });
        else ctx.o.out(formatHistory(revisions));
      }),
  );
  sessionOptions(
    program.command('verify').description('check installed files against their recorded sha256, size and mode').argument('[name...]'),
  ).action(async (names: string[], opts: ConfigOptions) =>
    run(ctx, opts, async (scope) => {
      const { verify } = await import('../ops/installed.js');
      const { results } = await verify({ ...scope.operation(scope.config()), names });
      const bad = results.some((r) => r.problems.length > 0);
      if (opts.json) ctx.o.json({ ok: !bad, packages: results });
      else ctx.o.out(formatVerify(results));
      if (bad) ctx.exitCode = 1;
    }),
  );
  sessionOptions(
    program
      .command('mark')
      .description('mark packages as asked for (--manual) or as dependencies only (--auto), which remove and update honour')
      .argument('<name...>')
      .option('--auto', 'installed only as a dependency: removed when nothing needs it')
      .option('--manual', 'asked for: kept'),
  ).action(async (names: string[], opts: ConfigOptions & { auto?: boolean; manual?: boolean }) =>
    run(ctx, opts, async (scope) => {
      if (!!opts.auto === !!opts.manual) throw new PkgError(ErrorCodes.USAGE, 'give exactly one of --auto and --manual');
      const { mark } = await import('../ops/installed.js');
      const { marked } = await mark({ ...scope.operation(scope.config()), names, manual: opts.manual === true });
      if (opts.json) ctx.o.json({ ok: true, marked });
      else ctx.o.out(marked.map((m) => `${m.key}: ${m.marked ? 'manual' : 'auto'}\n`).join(''));
    }),
  );
}
