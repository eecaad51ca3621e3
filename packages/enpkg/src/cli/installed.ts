/**
 * Commands about what is installed: list, freeze, history, revert, verify, mark.
 */
import type { Command } from 'commander';
import { PkgError, verifyInstalled, type VerifyResult } from 'egginst/core';
import type { ReadyEgg } from '../execute.js';
import type { IndexEntry, LoadedRepository } from '../repo/types.js';
import { openSession, type Session } from '../session.js';
import type { Revision } from '../state/db.js';
import type { PackageInfo } from '../types.js';
import { addConfigOptions, configFrom, runJsonAware, safe, toJson, type ConfigOptions } from './common.js';
import type { CliContext } from './main.js';
import type { TransactOptions } from './transact.js';

interface SessionOptions extends ConfigOptions {
  wait?: boolean;
}

async function withSession<T>(opts: SessionOptions, command: string, body: (s: Session) => Promise<T> | T): Promise<T> {
  const session = await openSession(configFrom(opts), { wait: !!opts.wait, command });
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

function sessionOptions(cmd: Command): Command {
  return addConfigOptions(cmd, { offline: false }).option('--wait', 'wait for another enpkg or egginst working on the prefix');
}

/** Enstaller's --log shape: a header per revision, then the full set (revision 0) or +/- lines. */
export function formatHistory(revisions: readonly Revision[]): string {
  const out: string[] = [];
  let previous: string[] = [];
  for (const r of revisions) {
    const time = r.time.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
    out.push(`==> ${time} <== revision ${r.id} (${safe(r.user)}): ${safe(r.command)}`);
    if (r.id === 0) out.push(...r.installed);
    else if (r.kind === 'self-update') {
      // enpkg itself: not one of the installed packages, so its change is shown as recorded.
      for (const c of r.changes) {
        if (c.kind === 'update') out.push(`-${c.from.eggName}`, `+${c.to.eggName}`);
        else out.push(`${c.kind === 'install' ? '+' : '-'}${c.eggName}`);
      }
    } else {
      const before = new Set(previous);
      const after = new Set(r.installed);
      for (const e of previous) if (!after.has(e)) out.push(`-${e}`);
      for (const e of r.installed) if (!before.has(e)) out.push(`+${e}`);
    }
    previous = r.installed;
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

function formatVerify(results: readonly VerifyResult[]): string {
  const lines: string[] = [];
  for (const r of results) {
    if (r.problems.length === 0) continue;
    for (const p of r.problems) lines.push(`${r.key}: ${p.problem.padEnd(8)} ${safe(p.path)}${p.detail ? ` (${p.detail})` : ''}`);
  }
  const bad = results.filter((r) => r.problems.length).length;
  lines.push(bad ? `${bad} of ${results.length} packages have changed or missing files.` : `All ${results.length} packages are intact.`);
  return `${lines.join('\n')}\n`;
}

/** revert N: exactly the installed set of revision N, from the cache or the repositories. */
async function revert(ctx: CliContext, opts: TransactOptions, n: string): Promise<void> {
  // What only revert needs is loaded here, so that list, freeze and history stay quick.
  const [{ carryOut, repoReporter, runReporter }, { planTransaction }, { loadRepositories }, { cachedEgg }] = await Promise.all([
    import('./transact.js'),
    import('../plan.js'),
    import('../repo/load.js'),
    import('../fetch/index.js'),
  ]);
  const id = Number(n);
  if (!Number.isInteger(id) || id < 0)
    throw new PkgError('USAGE', `a revision is a number >= 0, not ${JSON.stringify(n)}`, { hint: 'see enpkg history' });
  const reporter = runReporter(ctx, opts);
  const config = configFrom(opts);
  const command = `enpkg revert ${id}`;
  const session = await openSession(config, { wait: !!opts.wait, command, reporter });
  try {
    const target = session.state.revision(id);
    if (!target)
      throw new PkgError('NO_SUCH_REVISION', `there is no revision ${id} (the newest is ${session.state.latestRevision() ?? 'none'})`, {
        hint: 'see enpkg history',
      });
    const current = session.state.installed();
    const installed: PackageInfo[] = current.map((r) => ({
      name: r.name,
      key: r.key,
      version: r.version,
      build: r.build,
      depends: r.depends,
    }));
    // Eggs come from the cache when it has them (by the sha256 recorded when they were installed),
    // else from the repositories; a missing one is an error before anything changes.
    const eggs = new Map<string, ReadyEgg>();
    const infos = new Map<string, PackageInfo>();
    let repos: LoadedRepository[] | null = null;
    let repoError: Error | null = null;
    const missing: string[] = [];
    for (const eggName of target.installed) {
      const rec = session.state.egg(eggName);
      const cur = current.find((r) => r.eggName === eggName);
      if (cur) {
        infos.set(cur.key, { name: cur.name, key: cur.key, version: cur.version, build: cur.build, depends: cur.depends });
        continue;
      }
      const cached = rec?.sha256 ? cachedEgg(config.cacheDir, rec.sha256) : null;
      if (rec && cached) {
        infos.set(rec.key, { name: rec.name, key: rec.key, version: rec.version, build: rec.build, depends: rec.depends });
        eggs.set(rec.key, { key: rec.key, eggName, path: cached, sha256: rec.sha256, repository: rec.repository });
        continue;
      }
      if (repos === null) {
        try {
          repos = await loadRepositories(config, {
            offline: opts.offline === true,
            reporter: repoReporter(reporter),
            serials: session.serials,
          });
        } catch (e) {
          repos = [];
          repoError = e as Error;
        }
      }
      const entry = repos.flatMap((r) => r.index.entries).find((e: IndexEntry) => e.eggName === eggName);
      if (entry) infos.set(entry.key, entry);
      else missing.push(eggName);
    }
    if (missing.length) {
      throw new PkgError(
        'EGG_UNAVAILABLE',
        `cannot revert to revision ${id}: ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} neither in the cache nor in any repository`,
        {
          hint: repoError
            ? `the repositories could not be read (${repoError.message.split('\n')[0]}); fix that, then run enpkg revert again`
            : 'add the repository that has them (--repo), then run enpkg revert again',
          details: { missing },
        },
      );
    }
    const marked = new Set(current.filter((r) => r.marked).map((r) => r.key));
    for (const k of infos.keys()) if (!current.some((r) => r.key === k)) marked.add(k);
    const keep = new Set([...marked].filter((k) => infos.has(k)));
    const packages = [...infos.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
    const removeReasons = new Map(current.filter((r) => !infos.has(r.key)).map((r) => [r.key, { kind: 'requested' as const }]));
    const t = planTransaction(installed, { packages, marked: [...keep], removeReasons });
    await carryOut(ctx, opts, session, repos ?? [], t, keep, { kind: 'revert', command, reporter, eggs });
  } finally {
    await session.close();
  }
}

export function registerInstalled(program: Command, ctx: CliContext): void {
  sessionOptions(program.command('list').description('list the installed packages')).action(async (opts: SessionOptions) =>
    runJsonAware(ctx, opts, () =>
      withSession(opts, 'enpkg list', (s) => {
        const rows = s.state.installed();
        if (opts.json) {
          ctx.io.stdout(
            toJson({
              ok: true,
              prefix: s.prefix,
              packages: rows.map((r) => ({
                name: r.name,
                key: r.key,
                version: r.version,
                build: r.build,
                eggName: r.eggName,
                repository: r.repository,
                marked: r.marked,
                installedAt: r.installedAt,
              })),
            }),
          );
          return;
        }
        if (rows.length === 0) {
          ctx.io.stdout(`No packages installed in ${s.prefix}.\n`);
          return;
        }
        const w = Math.max(4, ...rows.map((r) => r.name.length)) + 2;
        const v = Math.max(7, ...rows.map((r) => `${r.version}-${r.build}`.length)) + 2;
        ctx.io.stdout(
          `${rows.map((r) => `${safe(r.name).padEnd(w)}${`${r.version}-${r.build}`.padEnd(v)}${r.marked ? 'manual' : 'auto  '}  ${safe(r.repository ?? '-')}`).join('\n')}\n`,
        );
      }),
    ),
  );
  sessionOptions(
    program.command('freeze').description('print the installed packages as "name version-build" lines (for install -r)'),
  ).action(async (opts: SessionOptions) =>
    runJsonAware(ctx, opts, () =>
      withSession(opts, 'enpkg freeze', (s) => {
        const rows = s.state.installed();
        if (opts.json) ctx.io.stdout(toJson({ ok: true, packages: rows.map((r) => `${r.name} ${r.version}-${r.build}`) }));
        else ctx.io.stdout(rows.map((r) => `${r.name} ${r.version}-${r.build}\n`).join(''));
      }),
    ),
  );
  sessionOptions(program.command('history').description("each revision and its changes (Enstaller's --log shape)")).action(
    async (opts: SessionOptions) =>
      runJsonAware(ctx, opts, () =>
        withSession(opts, 'enpkg history', (s) => {
          const revisions = s.state.revisions();
          if (opts.json) ctx.io.stdout(toJson({ ok: true, revisions }));
          else ctx.io.stdout(formatHistory(revisions));
        }),
      ),
  );
  addConfigOptions(
    program.command('revert').description('restore exactly the installed set of revision N (see enpkg history)').argument('<n>'),
    { offline: true },
  )
    .option('-n, --dry-run', 'show what would change, change nothing')
    .option('-y, --yes', 'do not ask before changing anything')
    .option('--no-scripts', 'do not run post-install / pre-uninstall scripts')
    .option('--wait', 'wait for another enpkg or egginst working on the prefix')
    .action(async (n: string, opts: TransactOptions) => runJsonAware(ctx, opts, () => revert(ctx, opts, n)));
  sessionOptions(
    program.command('verify').description('check installed files against their recorded sha256, size and mode').argument('[name...]'),
  ).action(async (names: string[], opts: SessionOptions) =>
    runJsonAware(ctx, opts, () =>
      withSession(opts, 'enpkg verify', (s) => {
        const keys = names.length ? names.map((n) => n.toLowerCase()) : s.state.installed().map((r) => r.key);
        const results = keys.map((k) => verifyInstalled(s.prefix, k));
        const bad = results.some((r) => r.problems.length > 0);
        if (opts.json) ctx.io.stdout(toJson({ ok: !bad, packages: results }));
        else ctx.io.stdout(formatVerify(results));
        if (bad) ctx.exitCode = 1;
      }),
    ),
  );
  sessionOptions(
    program
      .command('mark')
      .description('mark packages as asked for (--manual) or as dependencies only (--auto), which remove and update honour')
      .argument('<name...>')
      .option('--auto', 'installed only as a dependency: removed when nothing needs it')
      .option('--manual', 'asked for: kept'),
  ).action(async (names: string[], opts: SessionOptions & { auto?: boolean; manual?: boolean }) =>
    runJsonAware(ctx, opts, () => {
      if (!!opts.auto === !!opts.manual) throw new PkgError('USAGE', 'give exactly one of --auto and --manual');
      return withSession(opts, `enpkg mark ${names.join(' ')}`, (s) => {
        const marks = names.map((n) => {
          const row = s.state.get(n.toLowerCase());
          if (!row) throw new PkgError('NOT_INSTALLED', `${safe(n)} is not installed in ${s.prefix}`);
          return { key: row.key, marked: !!opts.manual };
        });
        s.state.setMarked(marks);
        if (opts.json) ctx.io.stdout(toJson({ ok: true, marked: marks }));
        else ctx.io.stdout(marks.map((m) => `${m.key}: ${m.marked ? 'manual' : 'auto'}\n`).join(''));
      });
    }),
  );
}
