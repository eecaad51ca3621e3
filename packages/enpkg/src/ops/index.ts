/**
 * enpkg's operations: each a function of one options object that returns plain data. The CLI is
 * argv -> options -> one of these -> render.
 */
export type * from './types.js';
export { install, remove, update, parseJobs } from './change.js';
export { revert } from './revert.js';
export { selfUpdate, bootstrap, autoupdate, type SelfUpdateOptions, type BootstrapOptions, type SelfOpResult } from './self.js';
export { listPackages, history, verify, mark, type Installed, type MarkResult } from './installed.js';
export { search, info, type RepositorySummary } from './query.js';
export {
  environmentInfo,
  importable,
  whatsNew,
  ENVIRONMENT_VARIABLES,
  type EnvInfo,
  type ImportRow,
  type WhatsNewRow,
} from './prefix-info.js';
export { readRequirementsFile } from './requirements-file.js';
export { solve, revertSolution, type SolveInput, type RevertInput } from './solution.js';
export { checkScenarios, solveScenario, type ScenarioCheck } from './solve-scenario.js';
