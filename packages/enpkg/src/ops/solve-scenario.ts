/**
 * `enpkg solve`: the transaction the resolver and the planner produce for a described universe and
 * request (a scenario file), without touching any prefix.
 */
import { parseScenario } from '../scenario.js';
import { planChanges } from '../plan.js';
import { resolve } from '../resolve/index.js';
import type { ChangePlan } from '../types.js';
import { readRegularFile } from './requirements-file.js';

export function solveScenario(opts: { readonly file: string }): ChangePlan {
  const scenario = parseScenario(readRegularFile(opts.file, 'scenario', 'give the path of a scenario YAML file'), opts.file);
  return planChanges(scenario.request.installed, resolve(scenario.request));
}
