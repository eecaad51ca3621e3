/**
 * `enpkg solve`: the transaction the resolver and the planner produce for a described universe and
 * request (a scenario file), without touching any prefix; and `--check`: that result against the
 * file's own expectation (`transaction:` or `failure:`), difference by difference.
 */
import { PkgError } from '../errors.js';
import { planChanges } from '../plan.js';
import { resolve } from '../resolve/index.js';
import { type ExpectedAction, type ExpectedKind, parseScenario, type Scenario } from '../scenario.js';
import type { Action, ChangePlan, PackageInfo } from '../types.js';
import { compareVersions, versionOf } from '../version.js';
import { readRegularFile } from './requirements-file.js';

function readScenario(file: string): Scenario {
  return parseScenario(readRegularFile(file, 'scenario', 'give the path of a scenario YAML file'), file);
}

function planOf(scenario: Scenario): ChangePlan {
  return planChanges(scenario.request.installed, resolve(scenario.request));
}

export function solveScenario(opts: { readonly file: string }): ChangePlan {
  return planOf(readScenario(opts.file));
}

export interface ScenarioCheck {
  readonly file: string;
  /** One line per difference between the result and the expectation; empty: as expected. */
  readonly differences: readonly string[];
}

const id = (p: PackageInfo): string => `${p.key} ${p.version}-${p.build}`;

/** An action in the original tool's vocabulary: an update is an upgrade or a downgrade. */
function asExpected(a: Action): Required<Pick<ExpectedAction, 'kind'>> & ExpectedAction {
  if (a.kind !== 'update') return { kind: a.kind, package: id(a.package) };
  const order = compareVersions(versionOf(a.to.version, a.to.build), versionOf(a.from.version, a.from.build));
  const kind: ExpectedKind = order > 0 ? 'upgrade' : order < 0 ? 'downgrade' : 'update';
  return { kind, from: id(a.from), to: id(a.to) };
}

const describe = (a: ExpectedAction): string => (a.package !== undefined ? `${a.kind} ${a.package}` : `${a.kind} ${a.from} -> ${a.to}`);

/** Expected `update` stands for any version change; the other kinds must match exactly. */
function matches(expected: ExpectedAction, got: ExpectedAction): boolean {
  const kindFits = expected.kind === got.kind || (expected.kind === 'update' && got.package === undefined);
  return kindFits && expected.package === got.package && expected.from === got.from && expected.to === got.to;
}

/** Differences between what a scenario expects and what the resolver does (actions compared as sets). */
export function checkScenario(file: string): ScenarioCheck {
  const scenario = readScenario(file);
  const expectation = scenario.expectation;
  if (expectation === undefined) return { file, differences: ['the file has no transaction: or failure: to check against'] };
  let plan: ChangePlan;
  try {
    plan = planOf(scenario);
  } catch (e) {
    if (!(e instanceof PkgError)) throw e;
    if (expectation.kind === 'failure') return { file, differences: [] };
    return { file, differences: [`expected a transaction, but there is no solution: ${e.message.split('\n')[0]}`] };
  }
  const got = plan.actions.map(asExpected);
  if (expectation.kind === 'failure') {
    const what = got.length === 0 ? 'nothing to do' : got.map(describe).join(', ');
    return { file, differences: [`expected no solution, but the resolver found one: ${what}`] };
  }
  const differences: string[] = [];
  const left = [...got];
  for (const e of expectation.actions) {
    const i = left.findIndex((g) => matches(e, g));
    if (i >= 0) left.splice(i, 1);
    else differences.push(`missing: ${describe(e)}`);
  }
  for (const g of left) differences.push(`unexpected: ${describe(g)}`);
  return { file, differences };
}

export function checkScenarios(opts: { readonly files: readonly string[] }): ScenarioCheck[] {
  return opts.files.map(checkScenario);
}
