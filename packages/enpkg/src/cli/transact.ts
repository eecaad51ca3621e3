/**
 * The commands that change a prefix: install, remove, update, revert. Each parses its options,
 * calls the operation and renders what it returns.
 */
import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { ErrorCodes, PkgError } from '../errors.js';
import { RepoWarningCodes } from '../repo/errors.js';
import type { ChangeOptions, ChangeResult } from '../ops/types.js';
import type { EnpkgConfig } from '../repo/types.js';
import { planToJson } from '../plan.js';
import { addConfigOptions, type CliContext, type ConfigOptions, confirmer, nonEmpty, type RunScope, run } from './common.js';
import { planText } from './render.js';

export interface TransactOptions extends ConfigOptions {
  dryRun?: boolean;
  deps?: boolean;
  force?: boolean;
  forceall?: boolean;
  yes?: boolean;
  scripts?: boolean;
  requirements?: string;
  all?: boolean;
  python?: string;
  strict?: boolean;
}

/** The options of a changing operation, from the command's flags. */
function changeOptions(ctx: CliContext, scope: RunScope, opts: TransactOptions): ChangeOptions {
  return {
    ...scope.operation(withPython(scope.config(), opts.python), { confirm: confirmer(ctx, opts) }),
    dryRun: opts.dryRun === true,
    noScripts: opts.scripts === false || process.env.EGGINST_NO_SCRIPTS === '1',
  };
}

/** `--python PATH` over the configuration's python_executable. */
const withPython = (config: EnpkgConfig, python: string | undefined): EnpkgConfig =>
  python === undefined ? config : { ...config, pythonExecutable: python.includes('/') ? resolve(python) : python };

/** What a changing operation returned, as text or JSON. */
export function renderChange(ctx: CliContext, opts: TransactOptions, r: ChangeResult): void {
  const actions = planToJson(r.plan);
  // Repositories left out because they could not be reached: the plan was made without them.
  const skipped = r.warnings
    .filter((w) => w.code === RepoWarningCodes.REPO_SKIPPED)
    .map((w) => `  (planned without repository ${w.subject}: unreachable)\n`);
  if (r.outcome === 'dry-run') {
    if (opts.json) ctx.o.json(actions);
    else ctx.o.out(r.plan.actions.length ? `Would change ${r.prefix}:\n${planText(r.plan)}${skipped.join('')}` : 'Nothing to do.\n');
    return;
  }
  if (r.outcome === 'declined') {
    // Only a person at a terminal is asked (never with --json): a "no" changes nothing.
    ctx.exitCode = 1;
    ctx.o.out('Nothing was changed.\n');
    return;
  }
  if (opts.json) {
    ctx.o.json({ ok: true, prefix: r.prefix, revision: r.revision, ...actions, warnings: r.warnings });
    return;
  }
  if (opts.quiet) return;
  if (r.outcome === 'already-installed') {
    const are = r.satisfied.length === 1 ? 'is' : 'are';
    ctx.o.out(`Nothing to do: ${r.satisfied.join(', ')} ${are} already installed.\n`);
  } else if (r.revision === null) ctx.o.out('Nothing to do: everything asked for is already installed.\n');
  else ctx.o.out(`${skipped.join('')}Done: revision ${r.revision}.\n`);
}

/**
 * With `autoupdate: true`, run from a launcher: update enpkg first, then the same command under it.
 * Returns true when the command ran again (its exit status is in ctx.exitCode).
 */
async function maybeAutoupdate(ctx: CliContext, scope: RunScope, opts: TransactOptions): Promise<boolean> {
  const home = process.env.ENPKG_HOME;
  if (!home || process.env.ENPKG_AUTOUPDATED === '1' || opts.dryRun) return false;
  const config = scope.config();
  if (!config.autoupdate) return false;
  const { autoupdate } = await import('../ops/self.js');
  const r = await autoupdate({ ...scope.operation(config, { confirm: confirmer(ctx, opts) }), home });
  if (!r) return false;
  if (!opts.json && !opts.quiet) ctx.o.err(`enpkg is now ${r.to}; running the command again with it\n`);
  const again = spawnSync(join(home, 'bin', 'enpkg'), process.argv.slice(2), {
    stdio: 'inherit',
    env: { ...process.env, ENPKG_AUTOUPDATED: '1' },
  });
  ctx.exitCode = again.status ?? 1;
  return true;
}

/** Options every changing command takes. */
export function addTransactOptions(cmd: Command): Command {
  return addConfigOptions(cmd, { offline: true })
    .option('-n, --dry-run', 'show what would change, change nothing')
    .option('-y, --yes', 'do not ask before changing anything')
    .option('--no-scripts', 'do not run post-install / pre-uninstall scripts')
    .option(
      '--python <path>',
      "the Python for scripts and shebangs, whose X.Y packages must fit (default: python_executable, else the prefix's own)",
      nonEmpty('--python'),
    )
    .option('--wait', 'wait for another enpkg or egginst working on the prefix');
}

/** A revision as written on the command line: a whole number, nothing else (`revert ""` is a mistake). */
export function parseRevision(text: string): number {
  if (!/^\d{1,9}$/.test(text)) {
    throw new PkgError(ErrorCodes.USAGE, `a revision is a whole number >= 0, not ${JSON.stringify(text)}`, { hint: 'see enpkg history' });
  }
  return Number(text);
}

export function registerTransact(program: Command, ctx: CliContext): void {
  addTransactOptions(
    program
      .command('install')
      .description('install packages (REQ: name, name-1.0, name-1.0-1, or "name >= 1.0, < 2")')
      .argument('[req...]', 'what to install')
      .option('-r, --requirements <file>', 'install exactly the packages listed (as enpkg freeze prints them)', nonEmpty('-r'))
      .option('-N, --no-deps', 'install the named packages only, without their dependencies')
      .option('-f, --force', 'reinstall the named packages even if installed')
      .option('--forceall', 'reinstall every package of the result'),
  ).action(async (reqs: string[], opts: TransactOptions) =>
    run(ctx, opts, async (scope) => {
      const [{ install, parseJobs }, { readRequirementsFile }] = await Promise.all([
        import('../ops/change.js'),
        import('../ops/requirements-file.js'),
      ]);
      const requirements = [...reqs, ...(opts.requirements ? readRequirementsFile(opts.requirements) : [])];
      if (requirements.length === 0) throw new PkgError(ErrorCodes.USAGE, 'nothing to install', { hint: 'name packages, or give -r FILE' });
      parseJobs('install', requirements);
      if (await maybeAutoupdate(ctx, scope, opts)) return;
      const reinstall = opts.forceall ? 'all' : opts.force ? 'named' : undefined;
      const r = await install({
        ...changeOptions(ctx, scope, opts),
        requirements,
        noDeps: opts.deps === false,
        ...(reinstall ? { reinstall } : {}),
      });
      renderChange(ctx, opts, r);
    }),
  );
  addTransactOptions(
    program
      .command('remove')
      .description(
        'remove packages, the packages that depend on them, and dependencies nothing needs any more ' +
          '(asked first; off a terminal that takes -y)',
      )
      .argument('<name...>')
      .option('-N, --no-deps', 'remove the named packages only')
      .option('-f, --force', 'with -N: remove them even when that leaves packages that need them broken'),
  ).action(async (names: string[], opts: TransactOptions) =>
    run(ctx, opts, async (scope) => {
      const { remove } = await import('../ops/change.js');
      const r = await remove({ ...changeOptions(ctx, scope, opts), names, noDeps: opts.deps === false, force: opts.force === true });
      renderChange(ctx, opts, r);
    }),
  );
  addTransactOptions(
    program
      .command('update')
      .description('update the named packages (or all with --all) to the newest versions that fit')
      .argument('[name...]')
      .option('--all', 'update every installed package')
      .option('--strict', 'fail (saying why) when a package cannot reach its newest version, instead of holding it back')
      .option('-N, --no-deps', 'update the named packages only'),
  ).action(async (names: string[], opts: TransactOptions) =>
    run(ctx, opts, async (scope) => {
      const { parseJobs, update } = await import('../ops/change.js');
      if (!opts.all && names.length === 0) throw new PkgError(ErrorCodes.USAGE, 'name packages to update, or give --all');
      if (!opts.all) parseJobs('update', names);
      if (await maybeAutoupdate(ctx, scope, opts)) return;
      const base = { ...changeOptions(ctx, scope, opts), noDeps: opts.deps === false, strict: opts.strict === true };
      renderChange(ctx, opts, await update(opts.all ? { ...base, all: true } : { ...base, names }));
    }),
  );
  addTransactOptions(
    program.command('revert').description('restore exactly the installed set of revision N (see enpkg history)').argument('<n>'),
  ).action(async (n: string, opts: TransactOptions) =>
    run(ctx, opts, async (scope) => {
      const revision = parseRevision(n);
      const { revert } = await import('../ops/revert.js');
      renderChange(ctx, opts, await revert({ ...changeOptions(ctx, scope, opts), revision }));
    }),
  );
}
