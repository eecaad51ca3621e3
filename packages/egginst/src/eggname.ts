/**
 * Egg file names: `<name>-<version>-<build>.egg` (Enstaller's pattern), and plain setuptools names
 * (`Jinja2-2.6-py2.7.egg`) whose identity comes from PKG-INFO instead.
 */
import { ErrorCodes, PkgError } from './errors.js';
import type { EggId } from './types.js';

const EGG_RE = /^([\w.]+)-([\w.]+)-(0|[1-9]\d*)\.egg$/;
const SETUPTOOLS_RE = /^([\w.]+)-([\w.!+]+)(?:-py(\d+\.\d+))?(?:-[\w.-]+)?\.egg$/;

/** Parse an Enstaller egg file name; null when it does not match the pattern. */
export function parseEggName(fileName: string): EggId | null {
  const m = EGG_RE.exec(fileName);
  if (!m) return null;
  const [, name, version, build] = m as unknown as [string, string, string, string];
  if (!isValidName(name)) return null;
  const n = Number(build);
  if (!Number.isSafeInteger(n)) return null;
  return { name, key: name.toLowerCase(), version, build: n };
}

/** Like parseEggName, but an error that says what is wrong. */
export function requireEggName(fileName: string): EggId {
  const id = parseEggName(fileName);
  if (!id) {
    throw new PkgError(ErrorCodes.EGG_NAME_INVALID, `"${fileName}" is not an egg file name of the form <name>-<version>-<build>.egg`, {
      hint: 'rename the file after its metadata, e.g. dummy-1.0.1-1.egg',
      details: { file: fileName },
    });
  }
  return id;
}

/** A setuptools egg name: returns the python tag (`2.7`) when there is one. */
export function parseSetuptoolsEggName(fileName: string): { name: string; version: string; python: string | null } | null {
  const m = SETUPTOOLS_RE.exec(fileName);
  if (!m) return null;
  return { name: m[1]!, version: m[2]!, python: m[3] ?? null };
}

/** A package name usable as a directory name and a key: word characters and dots, not `.`/`..`, not starting with `-`. */
export function isValidName(name: string): boolean {
  return /^[\w][\w.]*$/.test(name) && name.length <= 200;
}

export function formatEggName(id: { name: string; version: string; build: number }): string {
  return `${id.name}-${id.version}-${id.build}.egg`;
}
