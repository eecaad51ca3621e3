/**
 * `enpkg solve`: the transaction the resolver and the planner produce for a described universe and
 * request (a scenario file), without touching any prefix.
 */
import { parseScenario } from '../scenario.js';
import { planTransaction } from '../plan.js';
import { resolve } from '../resolve/index.js';
import type { Transaction } from '../types.js';
import { readRegularFile } from './requirements-file.js';

export function solveScenario(opts: { readonly file: string }): Transaction {
  const scenario = parseScenario(readRegularFile(opts.file, 'scenario', 'give the path of a scenario YAML file'), opts.file);
  return planTransaction(scenario.request.installed, resolve(scenario.request));
}
