/**
 * `enpkg bootstrap` and `enpkg self-update`: options -> ops/self.ts -> text or JSON.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { SelfOpResult } from '../ops/self.js';
import { addConfigOptions, type CliContext, type ConfigOptions, confirmer, nonEmpty, run } from './common.js';

interface SelfOptions extends ConfigOptions {
  check?: boolean;
  version?: string;
  rollback?: boolean;
  yes?: boolean;
}

const skippedNote = (r: SelfOpResult): string => {
  if (r.skipped.length === 0) return '';
  const are = r.skipped.length === 1 ? 'is' : 'are';
  return `\n(${r.skipped.join(', ')} failed to start here and ${are} skipped; name one with --version to try it again.)`;
};

function renderSwitch(ctx: CliContext, opts: SelfOptions, r: SelfOpResult): void {
  if (opts.json) {
    const repaired = r.outcome === 'already-bootstrapped' ? { repaired: r.repaired } : {};
    ctx.o.json({ ok: true, prefix: r.prefix, from: r.from, to: r.to, revision: r.revision, removed: r.removed, ...repaired });
    return;
  }
  if (opts.quiet) return;
  if (r.outcome === 'already-bootstrapped') {
    ctx.o.out(`enpkg ${r.to} is already bootstrapped in ${r.prefix}${r.repaired ? ' (its launchers were rewritten)' : ''}.\n`);
  } else if (r.from === null) {
    const launcher = join(r.prefix, 'bin', 'enpkg');
    ctx.o.out(
      `enpkg ${r.to} is bootstrapped into ${r.prefix} (revision ${r.revision}).\n` +
        `Run it as ${launcher}; it manages ${r.prefix}, itself included.\n`,
    );
  } else {
    ctx.o.out(
      `enpkg is now ${r.to} (was ${r.from}; kept, so that \`enpkg self-update --rollback\` can go back to it). Revision ${r.revision}.\n`,
    );
  }
}

function renderSelfUpdate(ctx: CliContext, opts: SelfOptions, r: SelfOpResult): void {
  switch (r.outcome) {
    case 'checked':
      if (opts.rollback) {
        if (opts.json) ctx.o.json({ ok: true, current: r.from, previous: r.previous });
        else
          ctx.o.out(
            `enpkg ${r.from} is current; ${r.previous ? `--rollback would go back to ${r.previous}` : 'there is no previous version'}.\n`,
          );
      } else if (opts.json) ctx.o.json({ ok: true, current: r.from, available: r.to, downgrade: r.downgrade });
      else if (r.to)
        ctx.o.out(
          `enpkg ${r.to} is available (this is ${r.from}): run enpkg self-update${opts.version ? ` --version ${opts.version}` : ''}.\n`,
        );
      else
        ctx.o.out(
          `enpkg ${r.from} is ${opts.version ? 'the version named' : 'the newest in the repositories'}; nothing to do.${skippedNote(r)}\n`,
        );
      return;
    case 'up-to-date':
      if (opts.json) ctx.o.json({ ok: true, prefix: r.prefix, from: r.from, to: r.to, revision: null, removed: [] });
      else if (!opts.quiet) {
        const what = opts.version ? 'already the version named' : 'the newest in the repositories';
        ctx.o.out(`enpkg ${r.from} is ${what}; nothing to do.${skippedNote(r)}\n`);
      }
      return;
    case 'declined':
      ctx.o.out('Nothing was changed.\n');
      ctx.exitCode = 1;
      return;
    default:
      renderSwitch(ctx, opts, r);
  }
}

export function registerSelf(program: Command, ctx: CliContext): void {
  addConfigOptions(
    program
      .command('bootstrap')
      .description('install enpkg into a prefix from its own egg, with the launchers <prefix>/bin/enpkg and <prefix>/bin/egginst')
      .argument('[egg]', 'an enpkg-<version>-<build>.egg (default: the newest enpkg in the repositories)', nonEmpty('the egg')),
    { offline: true },
  )
    .option('--wait', 'wait for another enpkg or egginst working on the prefix')
    .action(async (egg: string | undefined, opts: SelfOptions) =>
      run(ctx, opts, async (scope) => {
        const { bootstrap } = await import('../ops/self.js');
        renderSwitch(ctx, opts, await bootstrap({ ...scope.operation(scope.config()), ...(egg !== undefined ? { egg } : {}) }));
      }),
    );
  addConfigOptions(
    program
      .command('self-update')
      .description('move the enpkg of this prefix to the newest version in the repositories (kept beside the old one, switched atomically)')
      .option('--check', 'only say whether there is a newer enpkg')
      .option('--version <version>', 'move to this version (even an older one)', nonEmpty('--version'))
      .option('--rollback', 'go back to the previous version'),
    { offline: true },
  )
    .option('-y, --yes', 'do not ask')
    .option('--wait', 'wait for another enpkg or egginst working on the prefix')
    .action(async (opts: SelfOptions) =>
      run(ctx, opts, async (scope) => {
        const { selfUpdate } = await import('../ops/self.js');
        const r = await selfUpdate({
          ...scope.operation(scope.config(), { confirm: confirmer(ctx, opts) }),
          check: opts.check === true,
          rollback: opts.rollback === true,
          ...(opts.version ? { version: opts.version } : {}),
        });
        renderSelfUpdate(ctx, opts, r);
      }),
    );
}
