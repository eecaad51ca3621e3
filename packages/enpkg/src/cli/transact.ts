/**
 * The commands that change a prefix: install, remove, update, revert. One flow: session (lock,
 * reconcile) -> indexes -> resolve (or, for revert, the recorded set) -> plan -> show and confirm ->
 * fetch and verify every egg -> one egginst transaction -> revision.
 */
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { PkgError, type Reporter, type Warning } from 'egginst/core';
import type { ReadyEgg } from '../execute.js';
import type { FetchProgress } from '../fetch/index.js';
import type { IndexEntry, LoadedRepository, RepositoryConfig } from '../repo/types.js';
import { parseRequirement, satisfies } from '../requirement.js';
import { openSession, type Session } from '../session.js';
import type { RevisionKind } from '../state/db.js';
import { environment } from '../platform.js';
import type { Action, Environment, Job, PackageInfo, Transaction } from '../types.js';
import { compareVersions, versionOf } from '../version.js';
import { addConfigOptions, cliReporter, configFrom, runJsonAware, safe, toJson, type ConfigOptions } from './common.js';
import type { CliContext } from './main.js';

export interface TransactOptions extends ConfigOptions {
  dryRun?: boolean;
  deps?: boolean;
  force?: boolean;
  forceall?: boolean;
  yes?: boolean;
  scripts?: boolean;
  wait?: boolean;
  requirements?: string;
  all?: boolean;
}

const ver = (p: { version: string; build: number }) => versionOf(p.version, p.build);

export function label(p: { name: string; version: string; build: number }): string {
  return `${safe(p.name)} ${p.version}-${p.build}`;
}

function describe(a: Action): string {
  const verb = (w: string): string => `  ${w.padEnd(10)}`;
  if (a.kind === 'install') return `${verb('install')}${label(a.package)}`;
  if (a.kind === 'update')
    return `${verb(compareVersions(ver(a.to), ver(a.from)) >= 0 ? 'update' : 'downgrade')}${label(a.from)} -> ${a.to.version}-${a.to.build}`;
  const why =
    a.reason.kind === 'requested' ? '' : a.reason.kind === 'dependent' ? ` (it needs ${safe(a.reason.on)})` : ' (no longer needed)';
  return `${verb('remove')}${label(a.package)}${why}`;
}

/** Progress and warnings of the whole run, rendered like egginst's: plain lines, or nothing with --json/-q. */
export function runReporter(ctx: CliContext, opts: TransactOptions): Reporter & { warnings: Warning[] } {
  const base = cliReporter(ctx, opts);
  const said = new Set<string>();
  return {
    warnings: base.warnings,
    warn: (w) => base.warn?.(w),
    info: (m) => base.info?.(m),
    progress: (e) => {
      if (opts.json || opts.quiet) return;
      const line =
        e.phase === 'stage'
          ? `staging ${e.subject}`
          : e.phase === 'apply'
            ? 'moving files into place'
            : e.phase === 'scripts'
              ? `running ${e.subject} script`
              : null;
      if (line && !said.has(line)) {
        said.add(line);
        ctx.io.stderr(`${safe(line)}\n`);
      }
    },
  };
}

/** The part of the run's reporter that repository loading uses. */
export function repoReporter(r: Reporter): { warn: NonNullable<Reporter['warn']>; info: NonNullable<Reporter['info']> } {
  return { warn: (w) => r.warn?.(w), info: (m) => r.info?.(m) };
}

/** Ask on a terminal (yes with -y, --json, or when nobody can answer). */
export async function confirm(opts: TransactOptions, question = 'Proceed?'): Promise<boolean> {
  if (opts.yes || opts.json || !process.stdin.isTTY || !process.stdout.isTTY) return true;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/** Fetch (or find in the cache) and verify every egg the actions install. */
async function fetchFor(
  session: Session,
  actions: readonly Action[],
  repos: readonly LoadedRepository[],
  opts: TransactOptions,
  reporter: Reporter,
): Promise<Map<string, ReadyEgg>> {
  const byName = new Map<string, RepositoryConfig>(repos.map((r) => [r.config.name, r.config]));
  const requests: { entry: IndexEntry; repository: RepositoryConfig }[] = [];
  for (const a of actions) {
    if (a.kind === 'remove') continue;
    const entry = (a.kind === 'install' ? a.package : a.to) as IndexEntry;
    const repository = byName.get(entry.repository);
    if (!repository)
      throw new PkgError('EGG_UNAVAILABLE', `${entry.eggName} is in no configured repository`, {
        hint: 'add the repository that has it, or pick another version',
      });
    requests.push({ entry, repository });
  }
  const [{ fetchEggs }, { default: cliProgress }] = await Promise.all([import('../fetch/index.js'), import('cli-progress')]);
  const display = fetchDisplay(opts, cliProgress);
  let fetched;
  try {
    fetched = await fetchEggs(requests, {
      cacheDir: session.config.cacheDir,
      parallel: session.config.parallelDownloads,
      network: session.config.network,
      offline: opts.offline === true,
      reporter: { ...repoReporter(reporter), fetchProgress: display.update },
    });
  } finally {
    display.stop();
  }
  return new Map(
    fetched.map(
      (f, i) =>
        [f.key, { key: f.key, eggName: f.eggName, path: f.path, sha256: f.sha256, repository: requests[i]!.entry.repository }] as const,
    ),
  );
}

/** Every download in one display: a bar on a terminal, one summary line otherwise. */
export function fetchDisplay(
  opts: TransactOptions,
  cliProgress: typeof import('cli-progress'),
): { update: (e: FetchProgress) => void; stop: () => void } {
  if (opts.json || opts.quiet) return { update: () => {}, stop: () => {} };
  let last: FetchProgress | undefined;
  if (!process.stderr.isTTY) {
    return {
      update: (e) => void (last = e),
      stop: () => {
        if (!last) return;
        const o = last.overall;
        process.stderr.write(
          `fetched ${o.eggsDone - o.cached} of ${o.eggsTotal} eggs (${(o.bytesDone / 2 ** 20).toFixed(1)} MiB), ${o.cached} from the cache\n`,
        );
      },
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: 'fetching [{bar}] {percentage}% | {eggs} eggs | {mib} MiB | {active} at once',
      stream: process.stderr,
      hideCursor: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update: (e) => {
      const o = e.overall;
      const payload = { eggs: `${o.eggsDone}/${o.eggsTotal}`, mib: (o.bytesDone / 2 ** 20).toFixed(1), active: o.active };
      if (!started) {
        bar.start(Math.max(1, o.bytesTotal), o.bytesDone, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(1, o.bytesTotal));
        bar.update(o.bytesDone, payload);
      }
    },
    stop: () => {
      if (started) bar.stop();
    },
  };
}

function parseJobs(kind: 'install' | 'remove' | 'update', reqs: readonly string[]): Job[] {
  const jobs = reqs.map((r) => ({ kind, requirement: parseRequirement(r, { commandLine: true }) }) as Job);
  for (const j of jobs) {
    if (j.kind !== 'update_all' && j.requirement.key === 'enpkg') {
      throw new PkgError(
        'SELF_NOT_A_PACKAGE',
        `enpkg is not ${kind === 'install' ? 'installed' : 'managed'} as a package: it keeps itself`,
        {
          hint: 'use enpkg self-update (or enpkg bootstrap --prefix DIR to put enpkg into a prefix)',
        },
      );
    }
  }
  return jobs;
}

/** With `autoupdate: true`, run from a launcher: update enpkg first, then the command under it. */
async function maybeAutoupdate(ctx: CliContext, opts: TransactOptions): Promise<boolean> {
  if (!process.env.ENPKG_HOME || process.env.ENPKG_AUTOUPDATED === '1' || opts.dryRun || !configFrom(opts).autoupdate) return false;
  return (await import('./self.js')).autoupdate(ctx, opts);
}

/** `install -r FILE`: `name version-build` lines, installed exactly. */
function readRequirementsFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new PkgError('FILE_NOT_FOUND', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
      hint: 'give the file written by enpkg freeze',
    });
  }
  const out: string[] = [];
  for (const [i, raw] of text.split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\S+-\d+)$/.exec(line);
    if (!m)
      throw new PkgError('REQUIREMENT_INVALID', `${path} line ${i + 1}: expected "name version-build", found ${JSON.stringify(line)}`, {
        hint: 'write one package per line, as enpkg freeze prints them',
      });
    out.push(`${m[1]} == ${m[2]}`);
  }
  return out;
}

interface Planned {
  transaction: Transaction;
  marked: Set<string>;
}

/** --no-deps: each named package alone, the newest version that fits; nothing else moves. */
function planWithoutDeps(
  jobs: readonly Job[],
  available: readonly PackageInfo[],
  installed: readonly PackageInfo[],
  env: Environment,
): Transaction {
  const current = new Map(installed.map((p) => [p.key, p]));
  const actions: Action[] = [];
  for (const job of jobs) {
    if (job.kind === 'update_all') continue;
    const req = job.requirement;
    if (job.kind === 'remove') {
      const p = current.get(req.key);
      if (!p) throw new PkgError('NOT_INSTALLED', `${safe(req.name)} is not installed`);
      actions.push({ kind: 'remove', package: p, reason: { kind: 'requested' } });
      continue;
    }
    const best = available
      .filter((p) => p.key === req.key && satisfies(req, ver(p)) && (!p.python || !env.python || p.python === env.python))
      .sort((a, b) => compareVersions(ver(b), ver(a)))[0];
    if (!best)
      throw new PkgError('PACKAGE_NOT_FOUND', `no package matches ${safe(req.text)}`, { hint: 'see what exists with enpkg search' });
    const from = current.get(best.key);
    if (!from) actions.push({ kind: 'install', package: best });
    else if (from.version !== best.version || from.build !== best.build) actions.push({ kind: 'update', from, to: best });
  }
  return { actions, unchanged: installed.filter((p) => !actions.some((a) => (a.kind === 'update' ? a.from : a.package).key === p.key)) };
}

function installedInfos(session: Session): PackageInfo[] {
  return session.state.installed().map((r) => ({ name: r.name, key: r.key, version: r.version, build: r.build, depends: r.depends }));
}

/** Add reinstall actions for --force (named packages) and --forceall (everything in the result). */
function withReinstalls(t: Transaction, available: readonly PackageInfo[], keys: Set<string> | 'all'): Transaction {
  const actions = [...t.actions];
  const unchanged: PackageInfo[] = [];
  for (const p of t.unchanged) {
    if (keys !== 'all' && !keys.has(p.key)) {
      unchanged.push(p);
      continue;
    }
    const entry = available.find((a) => a.key === p.key && a.version === p.version && a.build === p.build);
    if (!entry)
      throw new PkgError('PACKAGE_NOT_FOUND', `${label(p)} cannot be reinstalled: no repository has it`, {
        hint: 'add the repository it came from',
      });
    actions.push({ kind: 'update', from: p, to: entry });
  }
  return { actions, unchanged };
}

/**
 * `install X` when every X is installed and satisfied: nothing to fetch, resolve or change, so no
 * index is read (the named packages become manual, as a full run would make them).
 */
function alreadyInstalled(ctx: CliContext, opts: TransactOptions, session: Session, request: RunRequest): boolean {
  if (request.kind !== 'install' || opts.force || opts.forceall || opts.dryRun || opts.deps === false) return false;
  const rows = session.state.installed();
  const named = [];
  for (const r of request.reqs) {
    const req = parseRequirement(r, { commandLine: true });
    const row = rows.find((p) => p.key === req.key && satisfies(req, versionOf(p.version, p.build)));
    if (!row) return false;
    named.push(row);
  }
  const marks = named.filter((r) => !r.marked).map((r) => ({ key: r.key, marked: true }));
  if (marks.length) session.state.setMarked(marks);
  if (opts.json) ctx.io.stdout(toJson({ ok: true, prefix: session.prefix, revision: null, actions: [], warnings: [] }));
  else if (!opts.quiet)
    ctx.io.stdout(
      `Nothing to do: ${named.map((r) => `${safe(r.name)} ${r.version}-${r.build}`).join(', ')} ${named.length === 1 ? 'is' : 'are'} already installed.\n`,
    );
  return true;
}

export interface RunRequest {
  kind: 'install' | 'remove' | 'update' | 'update_all';
  reqs: readonly string[];
  command: string;
}

export async function runRequest(ctx: CliContext, opts: TransactOptions, request: RunRequest): Promise<void> {
  const reporter = runReporter(ctx, opts);
  const config = configFrom(opts);
  const session = await openSession(config, { wait: !!opts.wait, command: request.command, reporter });
  try {
    if (alreadyInstalled(ctx, opts, session, request)) return;
    // Loaded only when there is work: they are most of a run's start-up time.
    const [{ loadRepositories }, { resolve }, { planTransaction }] = await Promise.all([
      import('../repo/load.js'),
      import('../resolve/index.js'),
      import('../plan.js'),
    ]);
    const repos =
      request.kind === 'remove'
        ? []
        : await loadRepositories(config, { offline: opts.offline === true, reporter: repoReporter(reporter), serials: session.serials });
    const available: PackageInfo[] = repos.flatMap((r) => r.index.entries);
    const installed = installedInfos(session);
    const env = environment(config.python);
    const jobs: Job[] = request.kind === 'update_all' ? [{ kind: 'update_all' }] : parseJobs(request.kind, request.reqs);
    let planned: Planned;
    if (opts.deps === false) {
      const t = planWithoutDeps(jobs, available, installed, env);
      const marked = new Set(
        session.state
          .installed()
          .filter((r) => r.marked)
          .map((r) => r.key),
      );
      for (const j of jobs) if (j.kind === 'install') marked.add(j.requirement.key);
      planned = { transaction: t, marked };
    } else {
      const marked = session.state
        .installed()
        .filter((r) => r.marked)
        .map((r) => r.key);
      const solution = resolve({ available, installed, marked, jobs, environment: env });
      planned = { transaction: planTransaction(installed, solution), marked: new Set(solution.marked) };
    }
    let t = planned.transaction;
    if (opts.forceall) t = withReinstalls(t, available, 'all');
    else if (opts.force)
      t = withReinstalls(t, available, new Set(jobs.flatMap((j) => (j.kind === 'update_all' ? [] : [j.requirement.key]))));
    await carryOut(ctx, opts, session, repos, t, planned.marked, { kind: 'transaction', command: request.command, reporter });
  } finally {
    await session.close();
  }
}

/** Show the plan, confirm, fetch, execute, report. Shared with revert. */
export async function carryOut(
  ctx: CliContext,
  opts: TransactOptions,
  session: Session,
  repos: readonly LoadedRepository[],
  t: Transaction,
  marked: Set<string>,
  run: { kind: RevisionKind; command: string; reporter: Reporter & { warnings: Warning[] }; eggs?: Map<string, ReadyEgg> },
): Promise<void> {
  const [{ transactionToJson }, { execute }] = await Promise.all([import('../plan.js'), import('../execute.js')]);
  const json = transactionToJson(t);
  if (opts.dryRun) {
    if (opts.json) ctx.io.stdout(`${JSON.stringify(json)}\n`);
    else ctx.io.stdout(t.actions.length ? `Would change ${session.prefix}:\n${t.actions.map(describe).join('\n')}\n` : 'Nothing to do.\n');
    return;
  }
  if (t.actions.length === 0) {
    const marks = session.state
      .installed()
      .filter((r) => r.marked !== marked.has(r.key))
      .map((r) => ({ key: r.key, marked: marked.has(r.key) }));
    if (marks.length) session.state.setMarked(marks);
    if (opts.json) ctx.io.stdout(toJson({ ok: true, prefix: session.prefix, revision: null, ...json, warnings: run.reporter.warnings }));
    else if (!opts.quiet) ctx.io.stdout('Nothing to do: everything asked for is already installed.\n');
    return;
  }
  if (!opts.json && !opts.quiet) ctx.io.stdout(`These changes will be made to ${session.prefix}:\n${t.actions.map(describe).join('\n')}\n`);
  if (!(await confirm(opts))) {
    ctx.io.stdout('Nothing was changed.\n');
    ctx.exitCode = 1;
    return;
  }
  // Eggs the caller already has (revert, from the cache) are used as they are; the rest are fetched.
  const eggs = new Map(run.eggs ?? []);
  const rest = t.actions.filter((a) => a.kind !== 'remove' && !eggs.has((a.kind === 'install' ? a.package : a.to).key));
  if (rest.length) for (const [k, v] of await fetchFor(session, rest, repos, opts, run.reporter)) eggs.set(k, v);
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const result = await execute({
      session,
      actions: t.actions,
      eggs,
      marked,
      kind: run.kind,
      command: run.command,
      noScripts: opts.scripts === false || process.env.EGGINST_NO_SCRIPTS === '1',
      reporter: run.reporter,
      signal: controller.signal,
    });
    if (opts.json)
      ctx.io.stdout(
        toJson({
          ok: true,
          prefix: session.prefix,
          revision: result.revision,
          ...json,
          warnings: [...run.reporter.warnings, ...result.warnings],
        }),
      );
    else if (!opts.quiet) ctx.io.stdout(`Done: revision ${result.revision}.\n`);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/** Options every changing command takes. */
export function addTransactOptions(cmd: Command): Command {
  return addConfigOptions(cmd, { offline: true })
    .option('-n, --dry-run', 'show what would change, change nothing')
    .option('-y, --yes', 'do not ask before changing anything')
    .option('--no-scripts', 'do not run post-install / pre-uninstall scripts')
    .option('--wait', 'wait for another enpkg or egginst working on the prefix');
}

export function registerTransact(program: Command, ctx: CliContext): void {
  const commandLine = (): string => `enpkg ${process.argv.slice(2).join(' ')}`.slice(0, 500);
  addTransactOptions(
    program
      .command('install')
      .description('install packages (REQ: name, name-1.0, name-1.0-1, or "name >= 1.0, < 2")')
      .argument('[req...]', 'what to install')
      .option('-r, --requirements <file>', 'install exactly the packages listed (as enpkg freeze prints them)')
      .option('-N, --no-deps', 'install the named packages only, without their dependencies')
      .option('-f, --force', 'reinstall the named packages even if installed')
      .option('--forceall', 'reinstall every package of the result'),
  ).action(async (reqs: string[], opts: TransactOptions) =>
    runJsonAware(ctx, opts, async () => {
      const all = [...reqs, ...(opts.requirements ? readRequirementsFile(opts.requirements) : [])];
      if (all.length === 0) throw new PkgError('USAGE', 'nothing to install', { hint: 'name packages, or give -r FILE' });
      parseJobs('install', all);
      if (await maybeAutoupdate(ctx, opts)) return;
      await runRequest(ctx, opts, { kind: 'install', reqs: all, command: commandLine() });
    }),
  );
  addTransactOptions(
    program
      .command('remove')
      .description('remove packages, the packages that depend on them, and dependencies nothing needs any more')
      .argument('<name...>'),
  ).action(async (names: string[], opts: TransactOptions) =>
    runJsonAware(ctx, opts, () => runRequest(ctx, opts, { kind: 'remove', reqs: names, command: commandLine() })),
  );
  addTransactOptions(
    program
      .command('update')
      .description('update the named packages (or all with --all) to the newest versions that fit')
      .argument('[name...]')
      .option('--all', 'update every installed package'),
  ).action(async (names: string[], opts: TransactOptions) =>
    runJsonAware(ctx, opts, async () => {
      if (!opts.all && names.length === 0) throw new PkgError('USAGE', 'name packages to update, or give --all');
      parseJobs('update', names);
      if (await maybeAutoupdate(ctx, opts)) return;
      await runRequest(
        ctx,
        opts,
        opts.all ? { kind: 'update_all', reqs: [], command: commandLine() } : { kind: 'update', reqs: names, command: commandLine() },
      );
    }),
  );
}
