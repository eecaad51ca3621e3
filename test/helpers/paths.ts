/**
 * Where things are: the repository root (found from this file, compiled or not), the built
 * fixtures, the real eggs beside the repository, and the egginst CLI.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HostileCase } from '../../fixtures/src/hostile.js';

function findRepoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'packages', 'egginst', 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the repository root above the test helpers');
    dir = parent;
  }
  return dir;
}

export const repoRoot = findRepoRoot();
export const fixturesBuildDir = join(repoRoot, 'fixtures', 'build');
export const fixturesBuildScript = join(repoRoot, 'fixtures', 'dist', 'src', 'build.js');
export const egginstBin = join(repoRoot, 'packages', 'egginst', 'bin', 'egginst.js');
/** In CI the repository is cloned fresh with `shared/` beside it. */
export const realEggsDir = join(repoRoot, '..', 'shared', 'real-eggs');

/** A built fixture, e.g. `fixturePath('eggs', 'app-1.0.0-1.egg')`. */
export function fixturePath(...parts: string[]): string {
  const path = join(fixturesBuildDir, ...parts);
  if (!existsSync(path)) {
    throw new Error(`${path} does not exist: build the fixtures first (node fixtures/dist/src/build.js)`);
  }
  return path;
}

/** One of Enstaller's own eggs, e.g. `realEgg('dummy-1.0.1-1.egg')`. */
export function realEgg(name: string): string {
  const path = join(realEggsDir, name);
  if (!existsSync(path)) throw new Error(`${path} does not exist: the real eggs live in shared/real-eggs beside the repository`);
  return path;
}

/** `fixtures/build/hostile/manifest.json`. */
export function readHostileManifest(): HostileCase[] {
  return JSON.parse(readFileSync(fixturePath('hostile', 'manifest.json'), 'utf8')) as HostileCase[];
}

export type { HostileCase };
