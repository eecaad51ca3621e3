/** This machine in the terms eggs use (`platform = 'linux2'`, `arch = 'amd64'` in spec/depend). */
import type { Environment, PackageInfo } from './types.js';

const PLATFORMS: Record<string, string> = { linux: 'linux2', darwin: 'darwin', win32: 'win32' };
const ARCHES: Record<string, string> = { x64: 'amd64', ia32: 'x86' };

export function eggPlatform(): { platform: string; arch: string } {
  return { platform: PLATFORMS[process.platform] ?? process.platform, arch: ARCHES[process.arch] ?? process.arch };
}

/** What the resolver filters candidates by. */
export function environment(python: string | null): Environment {
  return { python, ...eggPlatform() };
}

/** Why a package does not suit the environment (`is for python 2.7 (not 3.11)`), or null when it does. */
export function environmentMismatch(p: PackageInfo, env: Environment): string | null {
  if (env.python && p.python && p.python !== env.python) return `is for python ${p.python} (not ${env.python})`;
  if (env.platform && p.platform && p.platform !== env.platform) return `is for platform ${p.platform} (not ${env.platform})`;
  if (env.arch && p.arch && p.arch !== env.arch) return `is for arch ${p.arch} (not ${env.arch})`;
  return null;
}

/** Whether a package suits the environment: python, platform and arch each absent or equal. */
export function fitsEnvironment(p: PackageInfo, env: Environment): boolean {
  return environmentMismatch(p, env) === null;
}
