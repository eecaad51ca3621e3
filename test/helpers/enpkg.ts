/**
 * An enpkg world for a test: a local-directory repository built from fixture eggs and indexed, a
 * prefix, and a home of its own (config and cache), with reproducible install times; or, for the
 * tests over nginx, a repository to serve and a signing key.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fixturePath } from './paths.js';
import { runEnpkg, type RunResult } from './run.js';
import { tempDir } from './tmp.js';

export const DEMO = [
  'app-1.0.0-1',
  'app-1.1.0-1',
  'libfoo-1.0.0-1',
  'libfoo-1.1.0-1',
  'libbar-2.0-1',
  'data-1.0-1',
  'failpost-1.0-1',
  'upg-1.0-1',
  'clash-1.0-1',
  'hang-1.0-1',
];

/** HOME and the XDG config and cache directories, all in `home`: a run that reads and writes nothing of the user's. */
export function homeEnv(home: string): Record<string, string> {
  return { HOME: home, XDG_CONFIG_HOME: join(home, '.config'), XDG_CACHE_HOME: join(home, '.cache') };
}

export interface LocalRepo {
  root: string;
  repo: string;
  /** Not made: the first install makes it. */
  prefix: string;
  home: string;
  /** `homeEnv(home)` with reproducible install times. */
  env: Record<string, string>;
}

/** A temporary root with a local-directory repository of the given fixture eggs (indexed), a prefix path and a home. */
export async function localRepo(t: TestContext, eggs: readonly string[], tmpPrefix: string): Promise<LocalRepo> {
  const root = await tempDir(t, tmpPrefix);
  const repo = join(root, 'repo');
  const prefix = join(root, 'prefix');
  const home = join(root, 'home');
  mkdirSync(repo);
  mkdirSync(home);
  for (const e of eggs) copyFileSync(fixturePath('eggs', `${e}.egg`), join(repo, `${e}.egg`));
  const env = { ...homeEnv(home), SOURCE_DATE_EPOCH: '1700000000' };
  const indexed = await runEnpkg(['repo', 'index', repo, '--json'], { env });
  assert.equal(indexed.code, 0, indexed.stdout + indexed.stderr);
  return { root, repo, prefix, home, env };
}

export interface Setup extends LocalRepo {
  enpkg(args: string[], extra?: Record<string, string>): Promise<RunResult>;
}

export async function setup(t: TestContext, eggs = DEMO): Promise<Setup> {
  const w = await localRepo(t, eggs, 'enpkg-tx-');
  return {
    ...w,
    enpkg: (args, extra = {}) => runEnpkg([...args, '--prefix', w.prefix, '--repo', w.repo], { env: { ...w.env, ...extra } }),
  };
}

export interface ServedRepo {
  dir: string;
  /** nginx's root. */
  www: string;
  /** The repository: <www>/main, holding copies of the fixture eggs, not indexed yet. */
  main: string;
  home: string;
  /** The signing key (`enpkg repo keygen`) and its public half. */
  key: string;
  publicKey: string;
}

/** For the tests over nginx: a repository to serve, a home, and a signing key pair. */
export async function servedRepo(t: TestContext, eggs: readonly string[], tmpPrefix: string): Promise<ServedRepo> {
  const dir = await tempDir(t, tmpPrefix);
  const www = join(dir, 'www');
  const main = join(www, 'main');
  mkdirSync(main, { recursive: true });
  for (const egg of eggs) copyFileSync(fixturePath('eggs', egg), join(main, egg));
  const home = join(dir, 'home');
  mkdirSync(home);
  const key = join(dir, 'signing.key');
  const kg = await runEnpkg(['repo', 'keygen', key, '--json']);
  assert.equal(kg.code, 0, kg.stderr);
  return { dir, www, main, home, key, publicKey: (kg.json as { publicKey: string }).publicKey };
}
