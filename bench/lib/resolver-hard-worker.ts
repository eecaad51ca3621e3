/** One timed fresh install on the hard universe (see resolver-hard.ts), in a child process: the result as JSON on stdout. */
import { createRepository, PkgError, resolve, type SolveStats } from 'enpkg';
import { generateHardUniverse, type HardOptions } from './resolver-hard.js';

const { universe, root } = JSON.parse(process.argv[2]!) as { universe: HardOptions; root: string };
const available = generateHardUniverse(universe);
const repository = createRepository(available);
const stats: SolveStats = { decisions: 0, conflicts: 0 };
const t0 = process.hrtime.bigint();
let ok = true;
try {
  resolve(
    { available, installed: [], jobs: [{ kind: 'install', requirement: { text: root, name: root, key: root, constraints: [] } }] },
    { repository, stats },
  );
} catch (e) {
  if (!(e instanceof PkgError)) throw e;
  ok = false;
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
process.stdout.write(JSON.stringify({ seconds, ok, decisions: stats.decisions, conflicts: stats.conflicts }));
