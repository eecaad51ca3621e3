/**
 * This machine in the terms eggs use (`platform = 'linux2'`, `arch = 'amd64'` in spec/depend), and the
 * one rule for whether a package suits an environment: the resolver, search and info, the choice of
 * enpkg's own egg and the CLI all ask `fitsEnvironment` (or `environmentMismatch`, for the reason).
 */
import { ownPython, pythonFinder } from 'egginst';
import type { Environment } from './types.js';

const PLATFORMS: ReadonlyMap<string, string> = new Map([
  ['linux', 'linux2'],
  ['darwin', 'darwin'],
  ['win32', 'win32'],
]);
const ARCHES: ReadonlyMap<string, string> = new Map([
  ['x64', 'amd64'],
  ['ia32', 'x86'],
]);

export function eggPlatform(): { platform: string; arch: string } {
  return { platform: PLATFORMS.get(process.platform) ?? process.platform, arch: ARCHES.get(process.arch) ?? process.arch };
}

/** This machine, with this Python (`X.Y`; null: any). */
export function environment(python: string | null): Environment {
  return { python, ...eggPlatform() };
}

/**
 * X.Y of the interpreter a prefix runs, for the choice of packages when no `python:` is configured:
 * `python_executable` (or `--python`) when set, else the prefix's own bin/python or bin/python3;
 * null when it has neither (then packages for any Python are offered).
 */
export function prefixPythonVersion(prefix: string, executable: string | null): string | null {
  if (!executable && !ownPython(prefix)) return null;
  return pythonFinder(executable ?? undefined, prefix).version();
}

/** What a package says it needs: an index entry, a resolver package, an installed row all have these. */
export interface EnvironmentTags {
  readonly python?: string | null;
  readonly platform?: string | null;
  readonly arch?: string | null;
}

/**
 * Why a package does not suit the environment, or null when it does. Python, platform and arch are
 * each compared exactly; a tag left unset (null, absent or empty) by the package or by the environment
 * matches anything.
 */
export function environmentMismatch(pkg: EnvironmentTags, env: Environment): string | null {
  if (env.python && pkg.python && pkg.python !== env.python) return `is for python ${pkg.python} (not ${env.python})`;
  if (env.platform && pkg.platform && pkg.platform !== env.platform) return `is for platform ${pkg.platform} (not ${env.platform})`;
  if (env.arch && pkg.arch && pkg.arch !== env.arch) return `is for arch ${pkg.arch} (not ${env.arch})`;
  return null;
}

/** Whether a package suits the environment (python, platform and arch): environmentMismatch finds nothing. */
export function fitsEnvironment(pkg: EnvironmentTags, env: Environment): boolean {
  return environmentMismatch(pkg, env) === null;
}

/**
 * The values Enstaller substituted in repository URLs, for this machine: `{ARCH}` (`amd64`, `x86`),
 * `{SUBDIR}` (`rh5-64`, `osx-64`, `win-32`: its EPD platform directory) and `{PLATFORM}` (`rh5_x86_64`,
 * `osx_x86_64`, `win_x86`). Other architectures keep Node's name (`rh5_arm64`).
 */
export function enstallerPlatform(): { ARCH: string; SUBDIR: string; PLATFORM: string } {
  const os = process.platform === 'darwin' ? 'osx' : process.platform === 'win32' ? 'win' : 'rh5';
  const bits = process.arch === 'x64' ? '64' : process.arch === 'ia32' ? '32' : process.arch;
  const machine = process.arch === 'x64' ? 'x86_64' : process.arch === 'ia32' ? 'x86' : process.arch;
  return { ARCH: eggPlatform().arch, SUBDIR: `${os}-${bits}`, PLATFORM: `${os}_${machine}` };
}
