/**
 * enpkg as it was at an earlier commit, built beside this checkout, for benchmarks whose target is
 * set against "today's" figure of the issue that asked for them: the code before the change, run in
 * the same session on the same machine as the code after it.
 *
 * The commit's sources (`git archive`, so the repository's worktrees and index are left alone) are
 * unpacked into a directory of bench/work, linked to this checkout's installed dependencies (its own
 * workspace packages linked to its own sources) and compiled with this checkout's tsc. Built once per
 * commit; a failed or interrupted build is redone.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO } from './measure.js';

export type PastBuild = { enpkg: string } | { unavailable: string };

/** The workspace packages, linked to the old sources instead of this checkout's. */
const WORKSPACE = ['egginst', 'enpkg'];

/** Build `commit` into `dir`; the path of its enpkg, or why it cannot be built here. */
export function buildPast(commit: string, dir: string): PastBuild {
  const enpkg = join(dir, 'packages', 'enpkg', 'bin', 'enpkg.js');
  const done = join(dir, '.built');
  if (existsSync(done)) return { enpkg };
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const paths = ['package.json', 'tsconfig.json', 'packages', 'fixtures'];
  const sources = spawnSync('git', ['-C', REPO, 'archive', '--format=tar', commit, ...paths], { maxBuffer: 1 << 30 });
  if (sources.error || sources.status !== 0)
    return { unavailable: `git archive ${commit} failed: ${sources.error?.message ?? String(sources.stderr).trim()}` };
  const untar = spawnSync('tar', ['-x', '-C', dir], { input: sources.stdout });
  if (untar.status !== 0) return { unavailable: `unpacking ${commit} failed: ${String(untar.stderr).trim()}` };
  const modules = join(dir, 'node_modules');
  mkdirSync(modules);
  for (const name of readdirSync(join(REPO, 'node_modules'))) {
    if (name.startsWith('.')) continue;
    const target = WORKSPACE.includes(name) ? join('..', 'packages', name) : join(REPO, 'node_modules', name);
    symlinkSync(target, join(modules, name));
  }
  const tsc = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', 'packages/egginst', 'packages/enpkg'], { cwd: dir, encoding: 'utf8' });
  if (build.status !== 0) return { unavailable: `building ${commit} failed:\n${build.stdout}${build.stderr}` };
  writeFileSync(done, `${commit}\n`);
  return { enpkg };
}
