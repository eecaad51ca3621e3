/**
 * enpkg and itself: `enpkg bootstrap` puts enpkg (from its own egg) into a prefix with the launchers
 * `<prefix>/bin/enpkg` and `<prefix>/bin/egginst`; `enpkg self-update` moves that enpkg to another
 * version (self/update.ts does the work); `autoupdate` is the same, done first by install and update
 * when the configuration says `autoupdate: true`, followed by the original command under the new
 * version.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { Command } from 'commander';
import { PkgError } from 'egginst/core';
import { crashPoint } from '../crash.js';
import { environment } from '../platform.js';
import type { IndexEntry, LoadedRepository, RepositoryConfig } from '../repo/types.js';
import { openSession, type Session } from '../session.js';
import { chooseSelf, selfCandidates, skippedVersions, type SelfChoice, type SelfWant } from '../self/choose.js';
import { checkEgg, cleanVersions } from '../self/install.js';
import { checkLauncherPaths, writeLaunchers } from '../self/launcher.js';
import { runningManifest } from '../self/manifest.js';
import { readPointer, splitVersionId, versionId, type Pointer } from '../self/pointer.js';
import { installSelf, previousVersion, requirePointer, rollbackSelf, type SelfResult } from '../self/update.js';
import { addConfigOptions, configFrom, runJsonAware, toJson } from './common.js';
import type { CliContext } from './main.js';
import { confirm, fetchDisplay, repoReporter, runReporter, type TransactOptions } from './transact.js';

interface SelfOptions extends TransactOptions {
  check?: boolean;
  version?: string;
  rollback?: boolean;
}

const commandLine = (): string => `enpkg ${process.argv.slice(2).join(' ')}`.slice(0, 500);

async function loadRepos(session: Session, opts: SelfOptions, reporter: ReturnType<typeof runReporter>): Promise<LoadedRepository[]> {
  const { loadRepositories } = await import('../repo/load.js');
  return loadRepositories(session.config, { offline: opts.offline === true, reporter: repoReporter(reporter), serials: session.serials });
}

const candidatesIn = (repos: readonly LoadedRepository[]): IndexEntry[] =>
  selfCandidates(
    repos.flatMap((r) => r.index.entries),
    environment(null),
  );

function choose(
  repos: readonly LoadedRepository[],
  current: string | null,
  opts: SelfOptions,
  failed: readonly string[],
): SelfChoice | null {
  const want: SelfWant = opts.version ? { kind: 'version', version: opts.version } : { kind: 'newest' };
  return chooseSelf(candidatesIn(repos), current ? splitVersionId(current) : null, want, failed);
}

/** A note on newer versions left out because they failed their first start here. */
function skippedNote(repos: readonly LoadedRepository[], pointer: Pointer): string {
  const skipped = skippedVersions(candidatesIn(repos), splitVersionId(pointer.current), pointer.failed);
  if (skipped.length === 0) return '';
  return `\n(${skipped.join(', ')} failed to start here and ${skipped.length === 1 ? 'is' : 'are'} skipped; name one with --version to try it again.)`;
}

/** Fetch the chosen egg into the cache, verified against the (signed) index like any egg. */
async function fetchSelf(
  session: Session,
  repos: readonly LoadedRepository[],
  choice: SelfChoice,
  opts: SelfOptions,
  reporter: ReturnType<typeof runReporter>,
): Promise<{ path: string; eggName: string }> {
  const repository: RepositoryConfig | undefined = repos.find((r) => r.config.name === choice.entry.repository)?.config;
  if (!repository) throw new PkgError('EGG_UNAVAILABLE', `${choice.entry.eggName} is in no configured repository`);
  const [{ fetchEggs }, { default: cliProgress }] = await Promise.all([import('../fetch/index.js'), import('cli-progress')]);
  const display = fetchDisplay(opts, cliProgress);
  let fetched;
  try {
    fetched = await fetchEggs([{ entry: choice.entry, repository }], {
      cacheDir: session.config.cacheDir,
      parallel: 1,
      network: session.config.network,
      offline: opts.offline === true,
      reporter: { ...repoReporter(reporter), fetchProgress: display.update },
    });
  } finally {
    display.stop();
  }
  crashPoint('self-fetched');
  return { path: fetched[0]!.path, eggName: fetched[0]!.eggName };
}

function report(ctx: CliContext, opts: SelfOptions, r: SelfResult, home: string): void {
  if (opts.json) {
    ctx.io.stdout(toJson({ ok: true, prefix: home, from: r.from, to: r.to, revision: r.revision, removed: r.removed }));
    return;
  }
  if (opts.quiet) return;
  if (r.from === null) {
    ctx.io.stdout(
      `enpkg ${r.to} is bootstrapped into ${home} (revision ${r.revision}).\nRun it as ${join(home, 'bin', 'enpkg')}; it manages ${home}, itself included.\n`,
    );
    return;
  }
  ctx.io.stdout(
    `enpkg is now ${r.to} (was ${r.from}; kept, so that \`enpkg self-update --rollback\` can go back to it). Revision ${r.revision}.\n`,
  );
}

async function selfUpdate(ctx: CliContext, opts: SelfOptions): Promise<void> {
  if (opts.rollback && opts.version) throw new PkgError('USAGE', 'give --rollback or --version, not both');
  const reporter = runReporter(ctx, opts);
  const session = await openSession(configFrom(opts), { wait: !!opts.wait, command: commandLine(), reporter });
  try {
    const pointer = requirePointer(session.prefix);
    if (opts.rollback) {
      if (opts.check) {
        ctx.io.stdout(
          opts.json
            ? toJson({ ok: true, current: pointer.current, previous: pointer.previous })
            : `enpkg ${pointer.current} is current; ${pointer.previous ? `--rollback would go back to ${pointer.previous}` : 'there is no previous version'}.\n`,
        );
        return;
      }
      const previous = previousVersion(session.prefix, pointer);
      if (!(await confirm(opts, `Go back from enpkg ${pointer.current} to ${previous}?`))) {
        ctx.io.stdout('Nothing was changed.\n');
        ctx.exitCode = 1;
        return;
      }
      report(ctx, opts, await rollbackSelf(session, commandLine()), session.prefix);
      return;
    }
    const repos = await loadRepos(session, opts, reporter);
    const choice = choose(repos, pointer.current, opts, pointer.failed);
    if (opts.check) {
      if (opts.json)
        ctx.io.stdout(toJson({ ok: true, current: pointer.current, available: choice?.id ?? null, downgrade: choice?.downgrade ?? false }));
      else if (choice)
        ctx.io.stdout(
          `enpkg ${choice.id} is available (this is ${pointer.current}): run enpkg self-update${opts.version ? ` --version ${opts.version}` : ''}.\n`,
        );
      else
        ctx.io.stdout(
          `enpkg ${pointer.current} is ${opts.version ? 'the version named' : 'the newest in the repositories'}; nothing to do.${skippedNote(repos, pointer)}\n`,
        );
      return;
    }
    if (!choice) {
      // Leftovers of an interrupted switch go now; current and previous stay.
      cleanVersions(session.prefix, [pointer.current, pointer.previous]);
      if (opts.json)
        ctx.io.stdout(
          toJson({ ok: true, prefix: session.prefix, from: pointer.current, to: pointer.current, revision: null, removed: [] }),
        );
      else if (!opts.quiet)
        ctx.io.stdout(
          `enpkg ${pointer.current} is ${opts.version ? 'already the version named' : 'the newest in the repositories'}; nothing to do.${skippedNote(repos, pointer)}\n`,
        );
      return;
    }
    const verb = choice.downgrade ? 'Downgrade' : 'Update';
    if (!opts.json && !opts.quiet) ctx.io.stdout(`${verb} enpkg ${pointer.current} -> ${choice.id} (from ${choice.entry.repository})\n`);
    if (!(await confirm(opts, `${verb} enpkg?`))) {
      ctx.io.stdout('Nothing was changed.\n');
      ctx.exitCode = 1;
      return;
    }
    const egg = await fetchSelf(session, repos, choice, opts, reporter);
    report(ctx, opts, await installSelf(session, egg, commandLine()), session.prefix);
  } finally {
    await session.close();
  }
}

async function bootstrap(ctx: CliContext, opts: SelfOptions, eggArg: string | undefined): Promise<void> {
  const config = configFrom(opts);
  if (!config.prefix) throw new PkgError('NO_PREFIX', 'bootstrap needs the prefix to put enpkg into', { hint: 'pass --prefix DIR' });
  const eggPath = eggArg ? resolve(eggArg) : null;
  if (eggPath && !existsSync(eggPath))
    throw new PkgError('FILE_NOT_FOUND', `${eggArg} does not exist`, {
      hint: 'give the egg built by npm run build:egg, or leave it out to take enpkg from the repositories',
    });
  // A bad egg is refused before the prefix is touched.
  if (eggPath) (await checkEgg(eggPath)).archive.close();
  const reporter = runReporter(ctx, opts);
  const session = await openSession(config, { wait: !!opts.wait, command: commandLine(), reporter });
  try {
    const home = session.prefix;
    checkLauncherPaths(home);
    let egg: { path: string; eggName: string };
    if (eggPath) {
      egg = { path: eggPath, eggName: basename(eggPath) };
    } else {
      const repos = await loadRepos(session, opts, reporter);
      const choice = choose(repos, null, opts, []);
      if (!choice)
        throw new PkgError('SELF_VERSION_NOT_FOUND', 'no repository has an egg of enpkg for this machine', {
          hint: 'give the egg built by npm run build:egg',
        });
      egg = await fetchSelf(session, repos, choice, opts, reporter);
    }
    const pointer = readPointer(home);
    if (pointer) {
      const checked = await checkEgg(egg.path, egg.eggName);
      checked.archive.close();
      if (checked.id !== pointer.current) {
        throw new PkgError('SELF_ALREADY_BOOTSTRAPPED', `enpkg ${pointer.current} is already bootstrapped in ${home}`, {
          hint: `move it to another version with ${join(home, 'bin', 'enpkg')} self-update`,
        });
      }
      const repaired = writeLaunchers(home, process.execPath);
      if (opts.json)
        ctx.io.stdout(
          toJson({ ok: true, prefix: home, from: pointer.current, to: pointer.current, revision: null, removed: [], repaired }),
        );
      else if (!opts.quiet)
        ctx.io.stdout(`enpkg ${pointer.current} is already bootstrapped in ${home}${repaired ? ' (its launchers were rewritten)' : ''}.\n`);
      return;
    }
    report(ctx, opts, await installSelf(session, egg, commandLine()), home);
  } finally {
    await session.close();
  }
}

/**
 * `autoupdate: true`: before install or update, move to a newer enpkg if there is one (asking on a
 * terminal unless -y), then run the same command again under it. Returns true when the command ran
 * again (its exit status is in ctx.exitCode); false to go on with this version. A failed update is a
 * warning: the command still runs, under the version that works.
 */
export async function autoupdate(ctx: CliContext, opts: TransactOptions): Promise<boolean> {
  const home = process.env.ENPKG_HOME;
  const me = runningManifest();
  if (!home || !me) return false;
  const pointer = readPointer(home);
  if (!pointer || pointer.current !== versionId(me.version, me.build)) return false;
  const reporter = runReporter(ctx, opts);
  let result: SelfResult;
  try {
    const session = await openSession({ ...configFrom(opts), prefix: home }, { wait: !!opts.wait, command: commandLine(), reporter });
    try {
      const repos = await loadRepos(session, opts, reporter);
      const choice = choose(repos, pointer.current, {}, pointer.failed);
      if (!choice) return false;
      if (!(await confirm(opts, `enpkg ${choice.id} is available (this is ${pointer.current}). Update enpkg first?`))) return false;
      if (!opts.json && !opts.quiet) ctx.io.stderr(`updating enpkg ${pointer.current} -> ${choice.id} first (autoupdate)\n`);
      const egg = await fetchSelf(session, repos, choice, opts, reporter);
      result = await installSelf(session, egg, `${commandLine()} (autoupdate)`);
    } finally {
      await session.close();
    }
  } catch (e) {
    if (!(e instanceof PkgError)) throw e;
    reporter.warn?.({
      code: 'SELF_UPDATE_FAILED',
      message: `enpkg could not update itself (${e.message.split('\n')[0]}); going on with ${pointer.current}`,
    });
    return false;
  }
  if (!opts.json && !opts.quiet) ctx.io.stderr(`enpkg is now ${result.to}; running the command again with it\n`);
  const r = spawnSync(join(home, 'bin', 'enpkg'), process.argv.slice(2), {
    stdio: 'inherit',
    env: { ...process.env, ENPKG_AUTOUPDATED: '1' },
  });
  ctx.exitCode = r.status ?? 1;
  return true;
}

export function registerSelf(program: Command, ctx: CliContext): void {
  addConfigOptions(
    program
      .command('bootstrap')
      .description('install enpkg into a prefix from its own egg, with the launchers <prefix>/bin/enpkg and <prefix>/bin/egginst')
      .argument('[egg]', 'an enpkg-<version>-<build>.egg (default: the newest enpkg in the repositories)'),
    { offline: true },
  )
    .option('--wait', 'wait for another enpkg or egginst working on the prefix')
    .action(async (egg: string | undefined, opts: SelfOptions) => runJsonAware(ctx, opts, () => bootstrap(ctx, opts, egg)));
  addConfigOptions(
    program
      .command('self-update')
      .description('move the enpkg of this prefix to the newest version in the repositories (kept beside the old one, switched atomically)')
      .option('--check', 'only say whether there is a newer enpkg')
      .option('--version <version>', 'move to this version (even an older one)')
      .option('--rollback', 'go back to the previous version'),
    { offline: true },
  )
    .option('-y, --yes', 'do not ask')
    .option('--wait', 'wait for another enpkg or egginst working on the prefix')
    .action(async (opts: SelfOptions) => runJsonAware(ctx, opts, () => selfUpdate(ctx, opts)));
}
