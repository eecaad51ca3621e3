/**
 * The Python of a prefix: `--python PATH`; else the prefix's own `bin/python`, then `bin/python3`,
 * then `bin/python<X.Y>` of the egg, when it has one; else `python3` on PATH. Looked up only when an
 * egg needs it (site-packages placement without a `python` key, entry points, shebangs, .py scripts).
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { ErrorCodes, PkgError } from './errors.js';

export interface Python {
  /** The interpreter; `eggPython` (an egg's X.Y) lets the prefix's `bin/python<X.Y>` be found. */
  path(eggPython?: string | null): string;
  /** X.Y of `path()`. */
  version(): string;
}

export function findOnPath(cmd: string, pathEnv = process.env.PATH ?? ''): string | null {
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

/** The prefix's own interpreter: `bin/python`, then `bin/python3`, then `bin/python<X.Y>`, if executable. */
export function ownPython(prefix: string | undefined, eggPython?: string | null): string | null {
  if (!prefix) return null;
  for (const name of ['python', 'python3', ...(eggPython && /^\d+\.\d+$/.test(eggPython) ? [`python${eggPython}`] : [])]) {
    const p = join(prefix, 'bin', name);
    if (isFile(p) && isExecutable(p)) return p;
  }
  return null;
}

export function pythonFinder(configured?: string, prefix?: string): Python {
  const paths = new Map<string, string>();
  let version: string | undefined;
  const getPath = (eggPython?: string | null): string => {
    const known = paths.get(eggPython ?? '');
    if (known) return known;
    const found = configured
      ? configured.includes('/')
        ? resolve(configured)
        : findOnPath(configured)
      : (ownPython(prefix, eggPython) ?? findOnPath('python3'));
    if (!found || (isAbsolute(found) && !isExecutable(found))) {
      throw new PkgError(
        ErrorCodes.PYTHON_NOT_FOUND,
        configured ? `the Python interpreter ${configured} was not found or is not executable` : 'no python3 was found on PATH',
        {
          hint: 'pass --python PATH, or --no-scripts to skip scripts if that is all it was needed for',
        },
      );
    }
    paths.set(eggPython ?? '', found);
    return found;
  };
  return {
    path: getPath,
    version: () => {
      if (version) return version;
      const p = getPath();
      try {
        version = execFileSync(p, ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], {
          encoding: 'utf8',
          timeout: 30_000,
          stdio: ['ignore', 'pipe', 'pipe'],
        }).trim();
      } catch (e) {
        throw new PkgError(ErrorCodes.PYTHON_NOT_FOUND, `cannot ask ${p} for its version: ${(e as Error).message}`, {
          cause: e,
          hint: 'pass --python PATH',
        });
      }
      if (!/^\d+\.\d+$/.test(version)) throw new PkgError(ErrorCodes.PYTHON_NOT_FOUND, `${p} reported an odd version "${version}"`);
      return version;
    },
  };
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
