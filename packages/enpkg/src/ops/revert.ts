/**
 * revert N: exactly the installed set of revision N. Each egg comes from the cache when it has it (by
 * the sha256 recorded when it was installed), else from the repositories; one that neither has is an
 * error before anything changes.
 */
import { parseEggName } from 'egginst/core';
import { EnpkgErrorCodes, ErrorCodes, PkgError } from '../errors.js';
import type { ReadyEgg } from '../execute.js';
import type { LoadedRepository } from '../repo/types.js';
import type { PackageInfo } from '../types.js';
import { carryOut } from './carry-out.js';
import { installedPackages } from './change.js';
import { sessionIndexes } from './indexes.js';
import { collecting, withSession } from './common.js';
import { revertSolution } from './solution.js';
import type { ChangeResult, RevertOptions } from './types.js';

export function revert(opts: RevertOptions): Promise<ChangeResult> {
  const id = opts.revision;
  if (!Number.isSafeInteger(id) || id < 0) {
    return Promise.reject(
      new PkgError(ErrorCodes.USAGE, `a revision is a whole number >= 0, not ${String(id)}`, { hint: 'see enpkg history' }),
    );
  }
  const { reporter, warnings } = collecting(opts.reporter);
  return withSession({ ...opts, reporter }, async (session) => {
    const target = session.state.revision(id);
    if (!target) {
      throw new PkgError(
        EnpkgErrorCodes.NO_SUCH_REVISION,
        `there is no revision ${id} (the newest is ${session.state.latestRevision() ?? 'none'})`,
        {
          hint: 'see enpkg history',
          details: { revision: id },
        },
      );
    }
    const { cachedEgg } = await import('../fetch/index.js');
    const current = session.state.installed();
    const byEggName = new Map(current.map((r) => [r.eggName, r]));
    const eggs = new Map<string, ReadyEgg>();
    const packages = new Map<string, PackageInfo>();
    let repositories: LoadedRepository[] | null = null;
    let repoError: PkgError | null = null;
    const missing: string[] = [];
    for (const eggName of target.installed) {
      const cur = byEggName.get(eggName);
      if (cur) {
        packages.set(cur.key, { name: cur.name, key: cur.key, version: cur.version, build: cur.build, depends: cur.depends });
        continue;
      }
      const rec = session.state.egg(eggName);
      const cached = rec?.sha256 ? cachedEgg(session.config.cacheDir, rec.sha256) : null;
      if (rec && cached) {
        packages.set(rec.key, { name: rec.name, key: rec.key, version: rec.version, build: rec.build, depends: rec.depends });
        eggs.set(rec.key, { key: rec.key, eggName, path: cached, sha256: rec.sha256, repository: rec.repository });
        continue;
      }
      if (repositories === null) {
        try {
          const keys = new Set(target.installed.map((n) => parseEggName(n)?.key));
          repositories = await sessionIndexes(session, opts, reporter, { kind: 'match', match: (k) => keys.has(k) });
        } catch (e) {
          if (!(e instanceof PkgError) || e.code === ErrorCodes.INTERRUPTED) throw e;
          repositories = [];
          repoError = e;
        }
      }
      const entry = repositories.flatMap((r) => r.index.entries).find((e) => e.eggName === eggName);
      if (entry) packages.set(entry.key, entry);
      else missing.push(eggName);
    }
    if (missing.length) {
      const are = missing.length === 1 ? 'is' : 'are';
      throw new PkgError(
        EnpkgErrorCodes.EGG_UNAVAILABLE,
        `cannot revert to revision ${id}: ${missing.join(', ')} ${are} neither in the cache nor in any repository`,
        {
          hint: repoError
            ? `the repositories could not be read (${repoError.message.split('\n')[0]}); fix that, then run enpkg revert again`
            : 'add the repository that has them (--repo), then run enpkg revert again',
          details: { missing },
          ...(repoError ? { cause: repoError } : {}),
        },
      );
    }
    const installed = installedPackages(session);
    const now = new Set(current.map((r) => r.key));
    // The marks as they were at that revision; where the revision does not know them (imported
    // history), what stays keeps its mark and what comes back is taken as asked for.
    const known = target.marked;
    const solution = revertSolution({
      installed,
      marked: known ?? current.filter((r) => r.marked).map((r) => r.key),
      target: [...packages.values()],
      targetMarked: new Set(known ?? [...packages.keys()].filter((k) => !now.has(k))),
    });
    const { planChanges } = await import('../plan.js');
    return carryOut({
      session,
      opts,
      reporter,
      warnings,
      plan: planChanges(installed, solution),
      marked: new Set(solution.marked),
      kind: 'revert',
      repositories: repositories ?? [],
      eggs,
    });
  });
}
