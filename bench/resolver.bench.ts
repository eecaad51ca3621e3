/**
 * The resolver on a generated 100,000-package universe (5,000 names x 20 versions), against libsolv's
 * `testsolv` (Debian package libsolv-tools) on the same problems when it is installed:
 *
 *   1. a fresh install of the application with the most transitive dependencies (>= 200);
 *   2. update all over an installation of >= 500 packages made from older versions;
 *   3. an unsatisfiable request (the conflict is two levels down);
 *   4. 500 random small problems: both must agree on whether a solution exists (any disagreement is
 *      a bug, and fails the benchmark);
 *   5. a stress case: the same fresh install on a conflict-heavy universe (3% of pins lag behind);
 *   6. the hard universe (ranges that follow the depender's version): fresh installs of 20 random
 *      roots, each within 20 s, next to testsolv on each (stopped at 20 s too).
 *
 * Our times: median of several solves, each on a freshly compiled repository (nothing cached), after
 * one warm-up; "first" is the very first solve in this process (cold JIT). libsolv's solving time is
 * the slope between testsolv solving the jobs once and 21 times in one run (its `nextjob`), so that
 * parsing the testcase cancels out (fastest of 3 runs each); its total is one run (parsing + solving).
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { createRepository, PkgError, resolve, type ResolveRequest, type SolveStats } from 'enpkg';
import { fmt, median, REPO } from './lib/measure.js';
import { bigTarget, oldInstallation, randomSmallProblem, unsatisfiable } from './lib/resolver-problems.js';
import { libsolvUniverse, runTestsolv, testsolvAvailable, type LibsolvUniverse, type TestcaseMode } from './lib/resolver-testsolv.js';
import { generateHardUniverse, solveWithLimit } from './lib/resolver-hard.js';
import { generateUniverse, packageName, rng } from './lib/resolver-universe.js';

const NAMES = 5000;
const VERSIONS = 20;
const RUNS = 7;
const RANDOM = 500;
const work = join(REPO, 'bench', 'work', 'resolver');
mkdirSync(work, { recursive: true });
const haveTestsolv = testsolvAvailable();
let failures = 0;

const ms = (s: number): string => `${fmt(s * 1000, 1)} ms`;
const now = (): number => Number(process.hrtime.bigint()) / 1e9;

interface Ours {
  readonly first: number;
  readonly median: number;
  readonly compile: number;
  readonly ok: boolean;
  readonly packages: number;
  readonly stats: SolveStats;
  readonly message?: string;
}

function ours(request: ResolveRequest): Ours {
  let first = 0;
  let ok = true;
  let packages = 0;
  let message: string | undefined;
  const stats: SolveStats = { decisions: 0, conflicts: 0 };
  const times: number[] = [];
  const compiles: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    gc?.();
    const c0 = now();
    const repository = createRepository(request.available);
    const t0 = now();
    const s = i === 0 ? stats : undefined;
    try {
      packages = resolve(request, { repository, ...(s ? { stats: s } : {}) }).packages.length;
    } catch (e) {
      if (!(e instanceof PkgError)) throw e;
      ok = false;
      message = e.message;
    }
    const t = now() - t0;
    if (i === 0) first = t;
    else {
      times.push(t);
      compiles.push(t0 - c0);
    }
  }
  return { first, median: median(times), compile: median(compiles), ok, packages, stats, ...(message ? { message } : {}) };
}

interface Libsolv {
  readonly total: number;
  readonly solve: number;
  readonly solvable: boolean;
}

/** The testcase with its jobs solved `n` times (testsolv's `nextjob`). */
function repeated(testcase: string, n: number): string {
  const lines = testcase.split('\n');
  const firstJob = lines.findIndex((l) => l.startsWith('job ') || l.startsWith('solverflags '));
  const result = lines.findIndex((l) => l.startsWith('result '));
  const head = lines.slice(0, firstJob).join('\n');
  const block = lines.slice(firstJob, result + 1).join('\n');
  return `${head}\n${Array.from({ length: n }, () => block).join('\nnextjob\n')}\n`;
}

/**
 * libsolv's time: testsolv on the testcase (parsing and one solve), and its solving time alone as the
 * slope between solving the jobs once and REPEAT times in one run (parsing noise cancels out).
 */
function libsolv(u: LibsolvUniverse, request: ResolveRequest, mode: TestcaseMode, name: string): Libsolv {
  const REPEAT = 21;
  const testcase = u.testcase(request, mode);
  const many = repeated(testcase, REPEAT);
  const once: number[] = [];
  const more: number[] = [];
  let solvable = false;
  for (let i = 0; i < 3; i++) {
    const r = runTestsolv(testcase, join(work, `${name}.t`));
    once.push(r.seconds);
    solvable = r.solvable;
    more.push(runTestsolv(many, join(work, `${name}-x${REPEAT}.t`)).seconds);
  }
  // Minimums: the least disturbed runs (other processes only ever add time).
  const total = Math.min(...once);
  return { total, solve: (Math.min(...more) - total) / (REPEAT - 1), solvable };
}

interface Problem {
  readonly title: string;
  readonly request: ResolveRequest;
  readonly targetMs?: number;
}

function reportOurs(p: Problem): Ours {
  const o = ours(p.request);
  const result = o.ok ? `${o.packages} packages in the solution` : `no solution: ${o.message!.split('\n')[0]}`;
  process.stdout.write(
    `\n${p.title}\n  ours: ${ms(o.median)} median of ${RUNS} ` +
      `(first in process ${ms(o.first)}; ${o.stats.decisions} decisions, ${o.stats.conflicts} conflicts; ${result})\n`,
  );
  process.stdout.write(`        + compiling the repository (once per index load): ${ms(o.compile)}\n`);
  if (p.targetMs !== undefined) process.stdout.write(`  target <= ${p.targetMs} ms: ${o.median * 1000 <= p.targetMs ? 'met' : 'MISSED'}\n`);
  return o;
}

function reportLibsolv(p: Problem, o: Ours, u: LibsolvUniverse, file: string, targetRatio?: number): void {
  const l = libsolv(u, p.request, 'natural', file);
  const measurable = l.solve > 0.0005;
  const solving = measurable ? ms(l.solve) : 'below measurement noise (< 0.5 ms)';
  process.stdout.write(
    `${p.title.split(':')[0]!.split(' (')[0]}\n` +
      `  libsolv: ${solving} solving (testsolv ${ms(l.total)} in all, parsing the testcase included); ` +
      `${l.solvable ? 'solvable' : 'no solution'}\n`,
  );
  const ratio = o.median / l.solve;
  const solvingRatio = measurable
    ? `${fmt(ratio)}x${targetRatio ? ` (target <= ${targetRatio}x: ${ratio <= targetRatio ? 'met' : 'MISSED'})` : ''}`
    : 'n/a';
  process.stdout.write(
    `  ours/libsolv, solving: ${solvingRatio};  ours (compile + solve) / testsolv in all: ${fmt((o.median + o.compile) / l.total)}x\n`,
  );
  if (l.solvable !== o.ok) {
    failures++;
    process.stdout.write('  DISAGREEMENT on whether a solution exists\n');
  }
}

const gc = (globalThis as { gc?: () => void }).gc;

process.stdout.write(
  `testsolv: ${haveTestsolv ? 'found' : 'not found (Debian package libsolv-tools); the libsolv comparisons are skipped'}\n`,
);
let t0 = now();
const packages = generateUniverse({ names: NAMES, versions: VERSIONS, seed: 42, lag: 0.01 });
process.stdout.write(
  `universe: ${NAMES} names x ${VERSIONS} versions = ${packages.length} packages, ` +
    `1% of pins lagging one version (generated in ${ms(now() - t0)})\n`,
);

const target = bigTarget(packages, VERSIONS);
const anyVersion = (key: string): ResolveRequest['jobs'][number] => ({
  kind: 'install',
  requirement: { text: key, name: key, key, constraints: [] },
});
const old = oldInstallation(packages, VERSIONS, 6, 500);
const unsat = unsatisfiable(packages, VERSIONS);
const problems: Problem[] = [
  {
    title: `1. fresh install of ${target.key} (${target.closure} names reachable from its newest version)`,
    request: { available: packages, installed: [], jobs: [anyVersion(target.key)] },
    targetMs: 100,
  },
  {
    title: `2. update all with ${old.installed.length} installed (${old.marked!.length} marked), made from versions 6 releases old`,
    request: old,
  },
];
if (unsat) {
  const what = unsat.jobs.map((j) => (j.kind === 'install' ? j.requirement.text : j.kind)).join(' and ');
  problems.push({ title: `3. unsatisfiable request: install ${what}`, request: unsat });
} else {
  process.stdout.write('\n3. unsatisfiable request: none found in this universe\n');
}
const results = problems.map((p) => {
  gc?.();
  return reportOurs(p);
});

// 4. Random small problems: whether a solution exists must agree.
{
  let agree = 0;
  let solvable = 0;
  let oursTime = 0;
  let theirs = 0;
  const disagreements: number[] = [];
  for (let seed = 1; seed <= RANDOM; seed++) {
    const request = randomSmallProblem(seed);
    const s0 = now();
    let ok = true;
    try {
      resolve(request);
    } catch (e) {
      if (!(e instanceof PkgError)) throw e;
      ok = false;
    }
    oursTime += now() - s0;
    if (ok) solvable++;
    if (!haveTestsolv) continue;
    const r = runTestsolv(libsolvUniverse(request.available, request.installed).testcase(request, 'exact'), join(work, 'random.t'));
    theirs += r.seconds;
    if (r.solvable === ok) agree++;
    else disagreements.push(seed);
  }
  process.stdout.write(
    `\n4. ${RANDOM} random small problems (installed packages, marks, install/remove/update/update-all jobs): ` +
      `${solvable} solvable; ours ${fmt((oursTime / RANDOM) * 1e6, 0)} us each`,
  );
  if (haveTestsolv) {
    process.stdout.write(
      ` (testsolv ${ms(theirs / RANDOM)} each, process start included)\n` +
        `  agreement with libsolv on whether a solution exists: ${agree}/${RANDOM}; ` +
        `disagreements: ${disagreements.length ? disagreements.join(', ') : 'none'}\n`,
    );
    if (disagreements.length) failures++;
  } else {
    process.stdout.write('\n  libsolv comparison skipped: testsolv not found\n');
  }
}

if (haveTestsolv) {
  process.stdout.write('\nlibsolv on the same problems (testsolv testcases; versions as ranks, requirements as ranges):\n');
  t0 = now();
  const u = libsolvUniverse(packages);
  const uOld = libsolvUniverse(packages, old.installed);
  process.stdout.write(`  (converted in ${ms(now() - t0)})\n`);
  for (const [i, p] of problems.entries()) reportLibsolv(p, results[i]!, i === 1 ? uOld : u, `problem${i + 1}`, i === 0 ? 3 : undefined);
}

// 5. Stress: a universe where mixing versions conflicts often.
{
  const hard = generateUniverse({ names: NAMES, versions: VERSIONS, seed: 42, lag: 0.03 });
  const hardTarget = bigTarget(hard, VERSIONS);
  const p: Problem = {
    title: `5. stress: fresh install of ${hardTarget.key} on a conflict-heavy universe (3% of pins lagging)`,
    request: { available: hard, installed: [], jobs: [anyVersion(hardTarget.key)] },
  };
  gc?.();
  const o = reportOurs(p);
  if (haveTestsolv) reportLibsolv(p, o, libsolvUniverse(hard), 'stress');
}

// 6. The hard universe: ranges that follow the depender's version, 20 random roots, 20 s each.
{
  const LIMIT = 20;
  const ROOTS = 20;
  const spec = { names: NAMES, versions: VERSIONS, seed: 12 };
  const hard = generateHardUniverse(spec);
  const pick = rng(7);
  const roots = Array.from({ length: ROOTS }, () => packageName(NAMES / 2 + Math.floor(pick() * (NAMES / 2))));
  process.stdout.write(
    `\n6. hard universe: ${hard.length} packages, ranges following the depender's version (70% with an upper bound, ` +
      `5% exact pins); fresh installs of ${ROOTS} random roots, ${LIMIT} s each\n`,
  );
  const lu = haveTestsolv ? libsolvUniverse(hard) : null;
  const oursTimes: number[] = [];
  const theirs: (number | null)[] = [];
  let late = 0;
  for (const root of roots) {
    const o = solveWithLimit(spec, root, LIMIT);
    let line = `  ${root.padEnd(12)} ours ${o.seconds === null ? `> ${LIMIT} s (stopped)` : ms(o.seconds)}`;
    line += o.seconds === null ? '' : ` (${o.ok ? 'solved' : 'no solution'}; ${o.decisions} decisions, ${o.conflicts} conflicts)`;
    if (o.seconds === null) late++;
    else oursTimes.push(o.seconds);
    if (lu) {
      const request: ResolveRequest = { available: hard, installed: [], jobs: [anyVersion(root)] };
      const l = runTestsolv(lu.testcase(request, 'natural'), join(work, 'hard.t'), LIMIT);
      theirs.push(l.timedOut ? null : l.seconds);
      const outcome = `${ms(l.seconds)} (testsolv in all; ${l.solvable ? 'solved' : 'no solution'})`;
      line += `;  libsolv ${l.timedOut ? `> ${LIMIT} s (stopped)` : outcome}`;
      if (!l.timedOut && o.seconds !== null && l.solvable !== o.ok) {
        failures++;
        line += '  DISAGREEMENT';
      }
    }
    process.stdout.write(`${line}\n`);
  }
  const worst = oursTimes.length ? Math.max(...oursTimes) : 0;
  process.stdout.write(
    `  ours: worst ${late ? `> ${LIMIT} s` : ms(worst)}, median ${ms(median(oursTimes))}; ${ROOTS - late}/${ROOTS} within ${LIMIT} s: ` +
      `${late ? 'MISSED' : 'met'}\n`,
  );
  if (lu) {
    const done = theirs.filter((t): t is number => t !== null);
    process.stdout.write(
      `  libsolv (testsolv in all, parsing included): worst ${done.length < theirs.length ? `> ${LIMIT} s` : ms(Math.max(...done))}, ` +
        `${done.length}/${theirs.length} within ${LIMIT} s\n`,
    );
  }
  if (late) failures++;
}

rmSync(work, { recursive: true, force: true });
process.exitCode = failures ? 1 : 0;
