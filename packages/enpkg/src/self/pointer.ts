/**
 * Where enpkg keeps itself in a prefix, and the pointer file that says which version runs:
 *
 *   <prefix>/bin/enpkg, <prefix>/bin/egginst     launchers (see launcher.ts)
 *   <prefix>/.enpkg/self/current                 the pointer (below)
 *   <prefix>/.enpkg/self/<version>-<build>/      one version: manifest.json, enpkg.js, egginst.js, ...
 *
 * The pointer is a few `key=value` lines, simple enough for the launcher (a POSIX shell script) to
 * read, and is only ever replaced whole by a rename, so every reader sees one complete version of it:
 *
 *   current=1.1.0-1     the version the launchers run
 *   previous=1.0.0-1    kept, for a failed first start and `self-update --rollback`
 *   trial=1.1.0-1       set by a switch: on trial until its first successful start creates
 *                       `<version>-<build>/started` (the new version never writes the pointer)
 *   failed=1.2.0-1      versions that failed their first start (self-update skips them)
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileDurably } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';

export const SELF_DIR = join('.enpkg', 'self');
export const POINTER_FILE = 'current';
/** In a version's directory: it has started successfully here at least once. */
export const STARTED_FILE = 'started';

export interface Pointer {
  current: string;
  previous: string | null;
  trial: string | null;
  failed: string[];
}

/** `<version>-<build>`: the name of a version's directory. Egg versions are `[\w.]+`. */
const ID = /^[A-Za-z0-9_.]+-\d+$/;

export function isVersionId(id: string): boolean {
  return ID.test(id) && !id.startsWith('.');
}

export function versionId(version: string, build: number): string {
  return `${version}-${build}`;
}

export function splitVersionId(id: string): { version: string; build: number } {
  const i = id.lastIndexOf('-');
  return { version: id.slice(0, i), build: Number(id.slice(i + 1)) };
}

export function selfDir(home: string): string {
  return join(home, SELF_DIR);
}

export function pointerPath(home: string): string {
  return join(home, SELF_DIR, POINTER_FILE);
}

export function versionDir(home: string, id: string): string {
  return join(home, SELF_DIR, id);
}

export function parsePointer(text: string, source: string): Pointer {
  const values = new Map<string, string>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq < 1) throw invalid(source, `line ${JSON.stringify(line)} is not key=value`);
    values.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const id = (key: string, value: string | undefined): string | null => {
    if (value === undefined || value === '') return null;
    if (!isVersionId(value)) throw invalid(source, `${key}=${JSON.stringify(value)} is not a version-build`);
    return value;
  };
  const current = id('current', values.get('current'));
  if (!current) throw invalid(source, 'it names no current version');
  return {
    current,
    previous: id('previous', values.get('previous')),
    trial: id('trial', values.get('trial')),
    failed: (values.get('failed') ?? '')
      .split(/\s+/)
      .filter(Boolean)
      .map((f) => id('failed', f)!),
  };
}

function invalid(source: string, why: string): PkgError {
  return new PkgError(EnpkgErrorCodes.SELF_POINTER_INVALID, `${source} is damaged: ${why}`, {
    hint: 'run `enpkg bootstrap --prefix PREFIX` again to repair it',
  });
}

export function formatPointer(p: Pointer): string {
  return [
    '# which enpkg <prefix>/bin/enpkg runs; written by enpkg bootstrap and enpkg self-update',
    `current=${p.current}`,
    `previous=${p.previous ?? ''}`,
    `trial=${p.trial ?? ''}`,
    `failed=${p.failed.join(' ')}`,
    '',
  ].join('\n');
}

/** The pointer of an enpkg bootstrapped into `home`, or null when there is none. */
export function readPointer(home: string): Pointer | null {
  const path = pointerPath(home);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new PkgError(EnpkgErrorCodes.SELF_POINTER_INVALID, `cannot read ${path}: ${(e as Error).message}`, {
      hint: 'check its permissions',
    });
  }
  return parsePointer(text, path);
}

/** Write a file whole and durably, then rename it over `path`: readers see the old or the new one. */
export function writeAtomically(path: string, text: string, mode = 0o644, beforeRename?: () => void): void {
  writeFileDurably(path, text, { mode, ...(beforeRename ? { beforeRename } : {}) });
}

/** The one atomic step of a switch: the launchers run `to` from now on (on trial until it starts). */
export function switchPointer(home: string, p: Pointer, beforeRename?: () => void): void {
  writeAtomically(pointerPath(home), formatPointer(p), 0o644, beforeRename);
}
