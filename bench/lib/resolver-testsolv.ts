/**
 * The same resolver problems for libsolv's `testsolv` (Debian package libsolv-tools), so that the
 * benchmark can compare times and, on random problems, whether a solution exists.
 *
 * Egg versions do not follow rpm's order, so each package gets its rank among its name's versions
 * (1 = oldest) as its version `rank-0`. A requirement becomes `name >= lo-0` plus `name <= hi-0` when
 * the versions it matches are a contiguous run (libsolv installs at most one package of a name, so
 * the two lines constrain the same package), or a capability that exactly the matching packages
 * provide. (Bounds carry the release: libsolv orders a bare `8` below `8-0`.)
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import {
  compareVersions,
  parseRequirement,
  parseVersion,
  satisfies,
  type EggVersion,
  type Job,
  type PackageInfo,
  type Requirement,
  type ResolveRequest,
} from 'enpkg';

export function testsolvAvailable(): boolean {
  return !spawnSync('testsolv', ['-h'], { encoding: 'utf8' }).error;
}

interface Entry {
  readonly pkg: PackageInfo;
  readonly version: EggVersion;
  readonly rank: number;
  readonly provides: string[];
  requires?: string[];
}

/** A universe converted once; `testcase()` adds the installed packages and the jobs. */
export interface LibsolvUniverse {
  testcase(request: Omit<ResolveRequest, 'available'>, mode: TestcaseMode): string;
}

/** How the jobs are expressed: `natural` as a libsolv user would; `exact` with our rules spelled out. */
export type TestcaseMode = 'natural' | 'exact';

export function libsolvUniverse(available: readonly PackageInfo[], extra: readonly PackageInfo[] = []): LibsolvUniverse {
  const byKey = new Map<string, PackageInfo[]>();
  const seen = new Set<string>();
  for (const p of [...available, ...extra]) {
    const id = `${p.key} ${p.version}-${p.build}`;
    if (seen.has(id)) continue;
    seen.add(id);
    const list = byKey.get(p.key);
    if (list) list.push(p);
    else byKey.set(p.key, [p]);
  }
  const entries = new Map<string, Entry[]>();
  for (const [key, list] of byKey) {
    const es = list
      .map((p) => ({ pkg: p, version: parseVersion(`${p.version}-${p.build}`), rank: 0, provides: [] as string[] }))
      .sort((a, b) => compareVersions(a.version, b.version))
      .map((e, i) => ({ ...e, rank: i + 1 }));
    entries.set(key, es);
  }
  const availableIds = new Set(available.map((p) => `${p.key} ${p.version}-${p.build}`));
  const find = (p: PackageInfo): Entry => entries.get(p.key)!.find((e) => e.pkg.version === p.version && e.pkg.build === p.build)!;

  let tokens = 0;
  const memo = new Map<string, string[]>();
  const matching = (r: Requirement): Entry[] => (entries.get(r.key) ?? []).filter((e) => satisfies(r, e.version));
  /** Capabilities that together express "some package matching r" (ranges, or a token). */
  const capabilities = (r: Requirement): string[] => {
    const known = memo.get(r.text);
    if (known) return known;
    const es = entries.get(r.key) ?? [];
    const m = matching(r);
    let caps: string[];
    if (m.length === 0) caps = [`missing-${r.key}`];
    else if (m.length === es.length) caps = [r.key];
    else {
      const lo = m[0]!.rank;
      const hi = m[m.length - 1]!.rank;
      if (hi - lo + 1 === m.length) {
        caps = [];
        if (lo > 1) caps.push(`${r.key} >= ${lo}-0`);
        if (hi < es.length) caps.push(`${r.key} <= ${hi}-0`);
      } else {
        const token = `req-${++tokens}`;
        for (const e of m) e.provides.push(token);
        caps = [token];
      }
    }
    memo.set(r.text, caps);
    return caps;
  };
  for (const es of entries.values()) {
    for (const e of es) {
      const lines: string[] = [];
      for (const d of e.pkg.depends) {
        let r: Requirement;
        try {
          r = parseRequirement(d);
        } catch {
          lines.push('invalid-requirement');
          continue;
        }
        if (r.key !== e.pkg.key) lines.push(...capabilities(r));
      }
      e.requires = lines;
    }
  }
  const pkgLines = (e: Entry, provides: readonly string[]): string => {
    let out = `#>=Pkg: ${e.pkg.key} ${e.rank} 0 noarch`;
    for (const r of e.requires!) out += `\n#>=Req: ${r}`;
    for (const p of [...e.provides, ...provides]) out += `\n#>=Prv: ${p}`;
    return out;
  };

  return {
    testcase(request, mode) {
      // Job selections: a name, a name with a rank range, or a per-testcase token.
      const jobTokens = new Map<Entry, string[]>();
      let jt = 0;
      const select = (r: Requirement): string => {
        const es = entries.get(r.key) ?? [];
        const m = matching(r);
        if (m.length === es.length && m.length > 0) return `name ${r.key}`;
        const token = `job-${++jt}`;
        for (const e of m) jobTokens.set(e, [...(jobTokens.get(e) ?? []), token]);
        return `provides ${token}`;
      };
      const jobs: string[] = [];
      if (mode === 'natural') {
        for (const j of request.jobs) jobs.push(naturalJob(j, select));
      } else {
        const { required, forbidden } = exactRules(request);
        jobs.push('solverflags allowuninstall allowdowngrade allownamechange allowarchchange allowvendorchange');
        for (const r of required) jobs.push(`job install ${select(r)}`);
        for (const k of forbidden) jobs.push(`job erase name ${k}`);
      }
      // In exact mode nothing is "installed" for libsolv: it leaves the dependencies of installed
      // packages unchecked when they were broken already, where our rules require a consistent
      // result. Whether a solution exists depends only on the rules, which the jobs spell out.
      const installed = mode === 'exact' ? [] : request.installed.map(find);
      const installedIds = new Set(request.installed.map((p) => `${p.key} ${p.version}-${p.build}`));
      const out: string[] = ['repo system 0 testtags <inline>'];
      for (const e of installed) out.push(pkgLines(e, jobTokens.get(e) ?? []));
      out.push('repo available 0 testtags <inline>');
      for (const es of entries.values()) {
        for (const e of es) {
          const id = `${e.pkg.key} ${e.pkg.version}-${e.pkg.build}`;
          if (availableIds.has(id) || (mode === 'exact' && installedIds.has(id))) out.push(pkgLines(e, jobTokens.get(e) ?? []));
        }
      }
      out.push('system unset * system', ...jobs, 'result transaction,problems <inline>', '');
      return out.join('\n');
    },
  };
}

function naturalJob(j: Job, select: (r: Requirement) => string): string {
  switch (j.kind) {
    case 'install':
      return `job install ${select(j.requirement)}`;
    case 'update':
      return `job update ${select(j.requirement)}`;
    case 'remove':
      return `job erase name ${j.requirement.key}`;
    case 'update_all':
      return 'job update all packages';
  }
}

/**
 * Our hard rules, spelled out: what the jobs install or update, and what they remove. Marked
 * packages are not among them: one goes when no version of it can stay (the policy's rule b), so
 * whether a solution exists depends on the jobs alone.
 */
export function exactRules(request: Omit<ResolveRequest, 'available'>): { required: Requirement[]; forbidden: string[] } {
  const required: Requirement[] = [];
  const forbidden = new Set<string>();
  for (const j of request.jobs) {
    if (j.kind === 'install' || j.kind === 'update') required.push(j.requirement);
    if (j.kind === 'remove') forbidden.add(j.requirement.key);
  }
  return { required, forbidden: [...forbidden] };
}

export interface TestsolvResult {
  readonly solvable: boolean;
  readonly seconds: number;
  readonly output: string;
  /** It was stopped at the time limit (then `solvable` means nothing). */
  readonly timedOut?: boolean;
}

/** Run testsolv on a testcase (written to `path`); solvable when it reports no problem. */
export function runTestsolv(testcase: string, path: string, limitSeconds?: number): TestsolvResult {
  writeFileSync(path, testcase);
  const t0 = process.hrtime.bigint();
  const r = spawnSync('testsolv', ['-r', path], {
    encoding: 'utf8',
    maxBuffer: 256 << 20,
    ...(limitSeconds ? { timeout: limitSeconds * 1000, killSignal: 'SIGKILL' as const } : {}),
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (limitSeconds && (r.signal === 'SIGKILL' || (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT')) {
    return { solvable: false, seconds, output: '', timedOut: true };
  }
  if (r.error || (r.status !== 0 && r.status !== 1)) throw new Error(`testsolv failed (${r.status ?? r.error}): ${r.stderr}`);
  return { solvable: !/^problem /m.test(r.stdout), seconds, output: r.stdout };
}
