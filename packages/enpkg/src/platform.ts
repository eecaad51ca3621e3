/** This machine in the terms eggs use (`platform = 'linux2'`, `arch = 'amd64'` in spec/depend). */
import type { Environment } from './types.js';

const PLATFORMS: Record<string, string> = { linux: 'linux2', darwin: 'darwin', win32: 'win32' };
const ARCHES: Record<string, string> = { x64: 'amd64', ia32: 'x86' };

export function eggPlatform(): { platform: string; arch: string } {
  return { platform: PLATFORMS[process.platform] ?? process.platform, arch: ARCHES[process.arch] ?? process.arch };
}

/** What the resolver filters candidates by. */
export function environment(python: string | null): Environment {
  return { python, ...eggPlatform() };
}
