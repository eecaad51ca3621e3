/**
 * Commands about what is installed: list, freeze, history, verify, mark.
 */
import type { Command } from 'commander';
import { parseEggName } from 'egginst/core';
import type { VerifyOutcome } from '../ops/installed.js';
import { histTime } from '../state/hist.js';
import { ErrorCodes, PkgError } from '../errors.js';
import type { Revision } from '../state/db.js';
import { addConfigOptions, type CliContext, type ConfigOptions, run } from './common.js';

function sessionOptions(cmd: Command): Command {
  return addConfigOptions(cmd, { offline: false }).option('--wait', 'wait for another enpkg or egginst working on the prefix');
}

/**
 * Enstaller's `--log`, exactly: `<time>  (rev N)`, then, indented by four spaces, revision 0's egg
 * names, or a change's ` name  (old -> new)`, `-name-version` and `+name-version` lines (names in
 * lower case, sorted; the updates first, then removals, then installs).
 */
export function formatHistory(revisions: readonly Revision[]): string {
  const out: string[] = [];
  let previous: readonly string[] | null = null;
  for (const r of revisions) {
    out.push(`${histTime(r.time)}  (rev ${r.id})`);
    if (previous === null)
      out.push(...[...r.installed].sort((a, b) => a.toLowerCase().localeCompare(b.toLowerCase())).map((e) => `    ${e}`));
    else {
      const before = new Set(previous);
      const after = new Set(r.installed);
      const lines = prettyDiff(
        previous.filter((e) => !after.has(e)),
        r.installed.filter((e) => !before.has(e)),
      );
      // enpkg itself is not one of the installed set: a self-update shows its change as recorded.
      if (r.kind === 'self-update') {
        for (const c of r.changes) {
          if (c.kind === 'update') lines.push(` ${c.key}  (${versionText(c.from)} -> ${versionText(c.to)})`);
          else lines.push(`${c.kind === 'install' ? '+' : '-'}${c.key}-${versionText(c)}`);
        }
      }
      out.push(...lines.map((l) => `    ${l}`));
    }
    previous = r.installed;
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

const versionText = (v: { version: string; build: number }): string => `${v.version}-${v.build}`;

/** Enstaller's pretty_diff: an egg both removed and added is a change of version. */
function prettyDiff(removedEggs: readonly string[], addedEggs: readonly string[]): string[] {
  const byName = (eggs: readonly string[]): Map<string, string> => {
    const m = new Map<string, string>();
    for (const e of eggs) {
      const id = parseEggName(e);
      if (id) m.set(id.key, `${id.version}-${id.build}`);
      else m.set(e.replace(/\.egg$/, ''), '');
    }
    return m;
  };
  const removed = byName(removedEggs);
  const added = byName(addedEggs);
  const sorted = (keys: Iterable<string>): string[] => [...keys].sort();
  const dash = (name: string, v: string): string => (v ? `${name}-${v}` : name);
  const changed = sorted([...removed.keys()].filter((k) => added.has(k)));
  return [
    ...changed.map((k) => ` ${k}  (${removed.get(k)} -> ${added.get(k)})`),
    ...sorted([...removed.keys()].filter((k) => !added.has(k))).map((k) => `-${dash(k, removed.get(k)!)}`),
    ...sorted([...added.keys()].filter((k) => !removed.has(k))).map((k) => `+${dash(k, added.get(k)!)}`),
  ];
}

function formatVerify({ results, store, repaired }: VerifyOutcome): string {
  const lines: string[] = [];
  if (repaired) {
    for (const sha of repaired.entries) lines.push(`rebuilt the store entry ${sha}`);
    for (const p of repaired.prefixes) if (p.keys.length) lines.push(`installed again in ${p.prefix}: ${p.keys.join(', ')}`);
  }
  for (const r of results) {
    if (r.problems.length === 0) continue;
    for (const p of r.problems) lines.push(`${r.key}: ${p.problem.padEnd(8)} ${p.path}${p.detail ? ` (${p.detail})` : ''}`);
  }
  for (const c of store)
    for (const p of c.problems) lines.push(`${c.keys.join(', ')}: store ${p.problem.padEnd(8)} ${c.dir}/files/${p.path}`);
  const bad = results.filter((r) => r.problems.length).length;
  lines.push(bad ? `${bad} of ${results.length} packages have changed or missing files.` : `All ${results.length} packages are intact.`);
  const badStore = store.filter((c) => c.problems.length).length;
  if (badStore)
    lines.push(
      `${badStore} store entr${badStore === 1 ? 'y no longer matches its' : 'ies no longer match their'} manifest (enpkg verify --repair).`,
    );
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
    program
      .command('verify')
      .description('check installed files against their recorded sha256, size and mode, and the store entries they came from')
      .argument('[name...]')
      .option('--repair', 'rebuild damaged store entries from the cached eggs and install damaged packages again'),
  ).action(async (names: string[], opts: ConfigOptions & { repair?: boolean }) =>
    run(ctx, opts, async (scope) => {
      const { verify } = await import('../ops/installed.js');
      const outcome = await verify({ ...scope.operation(scope.config()), names, repair: opts.repair === true });
      const { results, store } = outcome;
      const bad = results.some((r) => r.problems.length > 0) || store.some((c) => c.problems.length > 0);
      if (opts.json) ctx.o.json({ ok: !bad, packages: results, store, ...(outcome.repaired ? { repaired: outcome.repaired } : {}) });
      else ctx.o.out(formatVerify(outcome));
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
