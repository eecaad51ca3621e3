/**
 * `enpkg solve SCENARIO.yaml [--json]`: print the transaction the resolver produces for a described
 * universe and request ("what would happen if"), without touching any prefix.
 */
import type { Command } from 'commander';
import { solveScenario } from '../ops/solve-scenario.js';
import { planToJson } from '../plan.js';
import type { ChangePlan } from '../types.js';
import { type CliContext, run } from './common.js';
import { planText } from './render.js';

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

With --json: {"actions": [{"kind": "install", "package": "name version-build"},
  {"kind": "remove", "package": ...}, {"kind": "update", "from": ..., "to": ...}]} in execution
order, or {"ok": false, "error": {"code", "message", "hint"}} and exit status 1.`;

export function formatTransaction(t: ChangePlan): string {
  if (t.actions.length === 0) return 'Nothing to do: the installed packages already satisfy the request.\n';
  const n = t.actions.length;
  return `${n} action${n === 1 ? '' : 's'}, in order:\n${planText(t)}`;
}

export function registerSolve(program: Command, ctx: CliContext): void {
  program
    .command('solve')
    .description('print the transaction the resolver produces for a scenario (a described universe and request)')
    .argument('<scenario>', 'scenario YAML file')
    .option('--json', 'print the actions (or the error) as JSON')
    .addHelpText('after', FORMAT_HELP)
    .action(async (file: string, opts: { json?: boolean }) =>
      run(ctx, opts, () => {
        const transaction = solveScenario({ file });
        if (opts.json) ctx.o.json(planToJson(transaction));
        else ctx.o.out(formatTransaction(transaction));
      }),
    );
}
