/**
 * enpkg and itself: `bootstrap` puts enpkg (from its own egg) into a prefix with the launchers;
 * `selfUpdate` moves that enpkg to another version (self/update.ts does the switch); `autoupdate` is
 * the same, done first by install and update when the configuration says `autoupdate: true`.
 */
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { crashPoint } from '../crash.js';
import { EnpkgErrorCodes, EnpkgWarningCodes, ErrorCodes, PkgError } from '../errors.js';
import { environment } from '../platform.js';
import type { IndexWant } from '../repo/sharded.js';
import type { IndexEntry, LoadedRepository } from '../repo/types.js';
import type { Reporter } from '../report.js';
import { chooseSelf, type SelfChoice, type SelfWant, selfCandidates, skippedVersions } from '../self/choose.js';
import { checkEgg, cleanVersions } from '../self/install.js';
import { checkLauncherPaths, writeLaunchers } from '../self/launcher.js';
import { runningManifest } from '../self/manifest.js';
import { type Pointer, readPointer, splitVersionId, versionId } from '../self/pointer.js';
import { installSelf, previousVersion, requirePointer, rollbackSelf, type SelfResult } from '../self/update.js';
import type { Session } from '../session.js';
import { fetchReadyEggs } from './carry-out.js';
import { sessionIndexes } from './indexes.js';
import { checkInterrupted, collecting, withSession } from './common.js';
import type { OperationOptions } from './types.js';

export interface SelfUpdateOptions extends OperationOptions {
  /** Only say whether there is another version to move to. */
  readonly check?: boolean;
  /** Move to this version (even an older one). */
  readonly version?: string;
  /** Go back to the previous version, kept beside the current one. */
  readonly rollback?: boolean;
}

export interface BootstrapOptions extends OperationOptions {
  /** An enpkg egg file; absent: the newest enpkg in the repositories. */
  readonly egg?: string;
}

export interface SelfOpResult {
  readonly prefix: string;
  /**
   * `switched` (a new current version), `up-to-date` (nothing to move to), `checked` (--check: see
   * `available`), `declined` (the confirm callback said no), `already-bootstrapped` (the same version
   * was there: its launchers were checked, and rewritten when `repaired`).
   */
  readonly outcome: 'switched' | 'up-to-date' | 'checked' | 'declined' | 'already-bootstrapped';
  /** The version before (null for a first bootstrap). */
  readonly from: string | null;
  /** The version after, or with `checked` the one available (null: none). */
  readonly to: string | null;
  readonly previous: string | null;
  readonly downgrade: boolean;
  readonly repository: string | null;
  readonly revision: number | null;
  /** Version directories (and crash leftovers) removed. */
  readonly removed: readonly string[];
  /** Newer versions left out because they failed to start here. */
  readonly skipped: readonly string[];
  readonly repaired: boolean;
  readonly warnings: readonly PkgWarning[];
}

type PkgWarning = ReturnType<typeof collecting>['warnings'][number];

/** Self-update needs only enpkg's own entries. */
const SELF: IndexWant = { kind: 'match', match: (key) => key === 'enpkg' };

const candidatesIn = (repos: readonly LoadedRepository[]): IndexEntry[] =>
  selfCandidates(
    repos.flatMap((r) => r.index.entries),
    environment(null),
  );

function choose(
  repos: readonly LoadedRepository[],
  current: string | null,
  version: string | undefined,
  failed: readonly string[],
): SelfChoice | null {
  const want: SelfWant = version ? { kind: 'version', version } : { kind: 'newest' };
  return chooseSelf(candidatesIn(repos), current ? splitVersionId(current) : null, want, failed);
}

function skipped(repos: readonly LoadedRepository[], pointer: Pointer): string[] {
  return skippedVersions(candidatesIn(repos), splitVersionId(pointer.current), pointer.failed);
}

/** The chosen egg, fetched into the cache and verified against the (signed) index like any egg. */
async function fetchSelf(
  session: Session,
  repos: readonly LoadedRepository[],
  choice: SelfChoice,
  opts: OperationOptions,
  reporter: Reporter,
): Promise<{ path: string; eggName: string }> {
  const [egg] = await fetchReadyEggs({
    session,
    repositories: repos,
    entries: [choice.entry],
    reporter,
    offline: opts.offline === true,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  crashPoint('self-fetched');
  checkInterrupted(opts.signal);
  return { path: egg!.path, eggName: egg!.eggName };
}

function base(prefix: string, warnings: readonly PkgWarning[]): Omit<SelfOpResult, 'outcome' | 'from' | 'to'> {
  return {
    prefix,
    previous: null,
    downgrade: false,
    repository: null,
    revision: null,
    removed: [],
    skipped: [],
    repaired: false,
    warnings,
  };
}

function switched(prefix: string, r: SelfResult, warnings: readonly PkgWarning[]): SelfOpResult {
  return { ...base(prefix, warnings), outcome: 'switched', from: r.from, to: r.to, revision: r.revision, removed: r.removed };
}

export function selfUpdate(opts: SelfUpdateOptions): Promise<SelfOpResult> {
  if (opts.rollback && opts.version) return Promise.reject(new PkgError(ErrorCodes.USAGE, 'give --rollback or --version, not both'));
  const { reporter, warnings } = collecting(opts.reporter);
  return withSession({ ...opts, reporter }, async (session) => {
    const home = session.prefix;
    const pointer = requirePointer(home);
    const here = { ...base(home, warnings), from: pointer.current, previous: pointer.previous };
    if (opts.rollback) {
      if (opts.check) return { ...here, outcome: 'checked', to: pointer.previous };
      const previous = previousVersion(home, pointer);
      if (opts.confirm && !(await opts.confirm({ kind: 'self-rollback', from: pointer.current, to: previous }))) {
        return { ...here, outcome: 'declined', to: previous };
      }
      checkInterrupted(opts.signal);
      return switched(home, await rollbackSelf(session, opts.command), warnings);
    }
    const repos = await sessionIndexes(session, opts, reporter, SELF);
    const choice = choose(repos, pointer.current, opts.version, pointer.failed);
    const found = { ...here, skipped: choice ? [] : skipped(repos, pointer) };
    if (opts.check) {
      return {
        ...found,
        outcome: 'checked',
        to: choice?.id ?? null,
        downgrade: choice?.downgrade ?? false,
        repository: choice?.entry.repository ?? null,
      };
    }
    if (!choice) {
      // Leftovers of an interrupted switch go now; current and previous stay.
      cleanVersions(home, [pointer.current, pointer.previous]);
      return { ...found, outcome: 'up-to-date', to: pointer.current };
    }
    const question = {
      kind: 'self-update',
      from: pointer.current,
      to: choice.id,
      downgrade: choice.downgrade,
      repository: choice.entry.repository,
    } as const;
    if (opts.confirm && !(await opts.confirm(question))) {
      return { ...found, outcome: 'declined', to: choice.id, downgrade: choice.downgrade, repository: choice.entry.repository };
    }
    const egg = await fetchSelf(session, repos, choice, opts, reporter);
    return { ...switched(home, await installSelf(session, egg, opts.command), warnings), repository: choice.entry.repository };
  });
}

export async function bootstrap(opts: BootstrapOptions): Promise<SelfOpResult> {
  if (!opts.config.prefix) {
    throw new PkgError(EnpkgErrorCodes.NO_PREFIX, 'bootstrap needs the prefix to put enpkg into', { hint: 'pass --prefix DIR' });
  }
  const eggPath = opts.egg !== undefined ? resolve(opts.egg) : null;
  if (eggPath && !existsSync(eggPath)) {
    throw new PkgError(ErrorCodes.FILE_NOT_FOUND, `${opts.egg} does not exist`, {
      hint: 'give the egg built by npm run build:egg, or leave it out to take enpkg from the repositories',
      details: { path: eggPath },
    });
  }
  // A bad egg is refused before the prefix is touched.
  if (eggPath) (await checkEgg(eggPath)).archive.close();
  const { reporter, warnings } = collecting(opts.reporter);
  return withSession({ ...opts, reporter }, async (session) => {
    const home = session.prefix;
    checkLauncherPaths(home);
    let egg: { path: string; eggName: string };
    if (eggPath) {
      egg = { path: eggPath, eggName: basename(eggPath) };
    } else {
      const repos = await sessionIndexes(session, opts, reporter, SELF);
      const choice = choose(repos, null, undefined, []);
      if (!choice) {
        throw new PkgError(EnpkgErrorCodes.SELF_VERSION_NOT_FOUND, 'no repository has an egg of enpkg for this machine', {
          hint: 'give the egg built by npm run build:egg',
        });
      }
      egg = await fetchSelf(session, repos, choice, opts, reporter);
    }
    const pointer = readPointer(home);
    if (pointer) {
      const checked = await checkEgg(egg.path, egg.eggName);
      checked.archive.close();
      if (checked.id !== pointer.current) {
        throw new PkgError(EnpkgErrorCodes.SELF_ALREADY_BOOTSTRAPPED, `enpkg ${pointer.current} is already bootstrapped in ${home}`, {
          hint: `move it to another version with ${join(home, 'bin', 'enpkg')} self-update`,
        });
      }
      const repaired = writeLaunchers(home, process.execPath);
      return { ...base(home, warnings), outcome: 'already-bootstrapped', from: pointer.current, to: pointer.current, repaired };
    }
    checkInterrupted(opts.signal);
    return switched(home, await installSelf(session, egg, opts.command), warnings);
  });
}

/**
 * `autoupdate: true`, run from the launcher of `home`: move to a newer enpkg if there is one (after
 * the confirm callback agrees). Returns the switch, or null when there is nothing to do or it was
 * declined. A failed update is a warning, not an error: the caller goes on with the version that works.
 */
export async function autoupdate(opts: OperationOptions & { readonly home: string }): Promise<SelfOpResult | null> {
  const me = runningManifest();
  if (!me) return null;
  const pointer = readPointer(opts.home);
  if (!pointer || pointer.current !== versionId(me.version, me.build)) return null;
  const { reporter, warnings } = collecting(opts.reporter);
  try {
    return await withSession({ ...opts, session: undefined, config: { ...opts.config, prefix: opts.home }, reporter }, async (session) => {
      const repos = await sessionIndexes(session, opts, reporter, SELF);
      const choice = choose(repos, pointer.current, undefined, pointer.failed);
      if (!choice) return null;
      if (opts.confirm && !(await opts.confirm({ kind: 'autoupdate', from: pointer.current, to: choice.id }))) return null;
      const egg = await fetchSelf(session, repos, choice, opts, reporter);
      return switched(session.prefix, await installSelf(session, egg, `${opts.command} (autoupdate)`), warnings);
    });
  } catch (e) {
    if (!(e instanceof PkgError) || e.code === ErrorCodes.INTERRUPTED) throw e;
    reporter.report({
      type: 'warning',
      warning: {
        code: EnpkgWarningCodes.SELF_UPDATE_FAILED,
        message: `enpkg could not update itself (${e.message.split('\n')[0]}); going on with ${pointer.current}`,
      },
    });
    return null;
  }
}
