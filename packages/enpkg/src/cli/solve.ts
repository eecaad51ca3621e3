/**
 * `enpkg solve SCENARIO.yaml [--json]`: print the transaction the resolver produces for a described
 * universe and request ("what would happen if"), without touching any prefix.
 */
import type { Command } from 'commander';
import { checkScenarios, solveScenario } from '../ops/solve-scenario.js';
import { planToJson } from '../plan.js';
import type { ChangePlan } from '../types.js';
import { ErrorCodes, PkgError } from '../errors.js';
import { type CliContext, EXIT, run } from './common.js';
import { heldBackText, planText } from './render.js';

const FORMAT_HELP = `
Scenario format (YAML):
  packages:                 the universe: "name version-build" or
    - "numpy 1.9.2-1"       "name version-build; depends (REQ, REQ)"
    - "pandas 0.18.0-1; depends (numpy 1.9.2-1, six >= 1.0, < 2.0)"
  installed: ["numpy 1.8.0-1"]
  marked: [numpy]           installed packages the user asked for (default: all installed)
  remote: [numpy, pandas]   names whose packages are available (default: all)
  environment: {python: "2.7", platform: linux2, arch: amd64}     optional; then packages may
                            carry "; python 2.7", "; platform linux2", "; arch amd64"
  request:
    - {operation: install, requirement: "pandas"}   install | remove | update | update_all
                            (also the original tool's upgrade, soft_update, hard_update)
  transaction:              the expected actions, for --check (the original tool's form):
    - {kind: install, package: "pandas 0.18.0-1"}  install | remove | update | upgrade | downgrade
    - {kind: upgrade, from: "numpy 1.8.0-1", to: "numpy-1.9.2-1"}
  failure: [...]            or: no solution is expected (the message's lines)

With --check FILE...: compare each file's result with its transaction: (as a set per kind) or
failure:, print each difference, and exit 1 if there is any.

With --json: {"actions": [{"kind": "install", "package": "name version-build"},
  {"kind": "remove", "package": ...}, {"kind": "update", "from": ..., "to": ...}]} in execution
order, or {"ok": false, "error": {"code", "message", "hint"}} and exit status 1.`;

export function formatTransaction(t: ChangePlan): string {
  if (t.actions.length === 0) return `Nothing to do: the installed packages already satisfy the request.\n${heldBackText(t)}`;
  const n = t.actions.length;
  return `${n} action${n === 1 ? '' : 's'}, in order:\n${planText(t)}`;
}

export function registerSolve(program: Command, ctx: CliContext): void {
  program
    .command('solve')
    .description('print the transaction the resolver produces for a scenario (a described universe and request)')
    .argument('<scenario...>', 'scenario YAML file (several with --check)')
    .option('--json', 'print the actions (or the error) as JSON')
    .option('-v, --verbose', 'print a long explanation in full')
    .option('--check', "compare each file's result with its expectation (transaction: or failure:)")
    .addHelpText('after', FORMAT_HELP)
    .action(async (files: string[], opts: { json?: boolean; check?: boolean; verbose?: boolean }) =>
      run(ctx, opts, () => {
        if (opts.check) {
          const checks = checkScenarios({ files });
          if (opts.json) ctx.o.json({ checks });
          else {
            for (const c of checks) {
              ctx.o.out(
                c.differences.length === 0 ? `ok ${c.file}\n` : `differs ${c.file}\n${c.differences.map((d) => `  ${d}\n`).join('')}`,
              );
            }
          }
          if (checks.some((c) => c.differences.length > 0)) ctx.exitCode = EXIT.failed;
          return;
        }
        if (files.length !== 1)
          throw new PkgError(ErrorCodes.USAGE, 'solve takes one scenario file', { hint: 'give several with --check' });
        const transaction = solveScenario({ file: files[0]! });
        if (opts.json)
          ctx.o.json({
            ...planToJson(transaction),
            ...(transaction.heldBack ? { held_back: transaction.heldBack.map((h) => h.line) } : {}),
          });
        else ctx.o.out(formatTransaction(transaction));
      }),
    );
}
