/**
 * Paths are hostile: archive member names, link targets and install records all pass through here.
 * Every prefix-relative path egginst writes or deletes is a POSIX path without `.`/`..` components.
 */
import { existsSync, lstatSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, PkgError } from './errors.js';

/** Directory of egginst's own state inside a prefix (lock, journal, staging). Never written by an egg. */
export const INTERNAL_DIR = '.egginst';

/** Top-level directories no egg may write into: egginst's state, and enpkg's (state database, config). */
export const RESERVED_DIRS: readonly string[] = [INTERNAL_DIR, '.enpkg'];

/**
 * Files no egg may replace, though no package owns them: when enpkg lives in the prefix (it has
 * `.enpkg/self/current`), its launchers. Replacing them would lose the manager of the prefix.
 */
export function launcherPaths(prefix: string): ReadonlyMap<string, string> {
  if (!existsSync(join(prefix, '.enpkg', 'self', 'current'))) return new Map();
  return new Map([
    ['bin/enpkg', "enpkg's launcher"],
    ['bin/egginst', "enpkg's egginst launcher"],
  ]);
}

/**
 * Why an archive member name is unsafe, or null when it is fine. One function for every name check:
 * traversal, absolute and drive paths, backslashes, control characters, empty components.
 */
export function unsafeNameReason(name: string): string | null {
  if (name.length <= 4096 && PLAIN_NAME.test(name)) return null;
  if (name.length === 0) return 'it is empty';
  if (Buffer.byteLength(name) > 4096) return 'it is longer than 4096 bytes';
  // C0 and C1 control characters and DEL; U+2028/2029 confuse line-based tools.
  if (/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return 'it contains a control character';
  if (name.includes('\\')) return 'it contains a backslash';
  if (name.startsWith('/')) return 'it is an absolute path';
  if (/^[A-Za-z]:/.test(name)) return 'it starts with a drive letter';
  const parts = name.endsWith('/') ? name.slice(0, -1).split('/') : name.split('/');
  for (const part of parts) {
    if (part === '') return 'it has an empty path component';
    if (part === '.' || part === '..') return `it has a ${JSON.stringify(part)} path component`;
    if (Buffer.byteLength(part) > 255) return 'a path component is longer than 255 bytes';
  }
  return null;
}

/**
 * The names almost every archive holds: printable ASCII but the backslash, no leading `/` or drive
 * letter, components of 1 to 255 bytes that are not `.` or `..`, at most 4096 bytes. Such a name is
 * safe by every rule of unsafeNameReason, which looks no further.
 */
const PLAIN_NAME =
  /^(?![A-Za-z]:)(?:(?!\.\.?\/)[\x20-\x2e\x30-\x5b\x5d-\x7e]{1,255}\/)*(?!\.\.?\/?$)[\x20-\x2e\x30-\x5b\x5d-\x7e]{1,255}\/?$/;

export function assertSafeName(name: string, what = 'archive entry'): void {
  const reason = unsafeNameReason(name);
  if (reason) {
    throw new PkgError(ErrorCodes.ARCHIVE_UNSAFE_PATH, `${what} ${name} is refused: ${reason}`, {
      hint: 'the archive is broken or hostile; nothing was installed',
      details: { entry: name },
    });
  }
}

/** The key under which two names collide on a case-insensitive or Unicode-normalising filesystem. */
export function collisionKey(path: string): string {
  // ASCII is its own NFC form.
  return (ASCII.test(path) ? path : path.normalize('NFC')).toLowerCase();
}
const ASCII = /^[\x00-\x7f]*$/;

/** Every proper ancestor of a relative path: `a/b/c` -> [`a`, `a/b`]. */
export function ancestors(rel: string): string[] {
  const out: string[] = [];
  let i = rel.indexOf('/');
  while (i !== -1) {
    out.push(rel.slice(0, i));
    i = rel.indexOf('/', i + 1);
  }
  return out;
}

/**
 * Every directory the relative `paths` lie in, each once, in path order: a parent before its children,
 * and each subtree together (making a tree's directories breadth first cost about half as much again
 * per mkdir on ext4).
 */
export function directoriesOf(paths: Iterable<string>): string[] {
  const dirs = new Set<string>();
  for (const p of paths)
    for (let i = p.lastIndexOf('/'); i > 0 && !dirs.has(p.slice(0, i)); i = p.lastIndexOf('/', i - 1)) dirs.add(p.slice(0, i));
  return [...dirs].sort();
}

export function parentOf(rel: string): string {
  const i = rel.lastIndexOf('/');
  return i === -1 ? '' : rel.slice(0, i);
}

/**
 * Normalise a path that must stay inside the prefix: `./a//b/` -> `a/b`. Returns null if it has
 * `..`, is absolute, or is otherwise unsafe. Used for records, whose entries are hostile too.
 */
export function normalizeRelative(p: string): string | null {
  // What records almost always hold: a plain name already in normal form.
  if (p.length <= 4096 && PLAIN_NAME.test(p) && !p.endsWith('/')) return p;
  let s = p;
  while (s.startsWith('./')) s = s.slice(2);
  s = s.replace(/\/+/g, '/').replace(/\/$/, '');
  if (s === '' || unsafeNameReason(s) !== null) return null;
  return s;
}

/** How links are looked up while resolving: links this transaction will create, then the disk. */
export interface LinkView {
  /** Target of a link the transaction creates at this prefix-relative path, if any. */
  planned(rel: string): string | undefined;
  /** True if this path is being removed by the transaction (so the disk does not count). */
  removed?(rel: string): boolean;
}

/**
 * Would following `target` from the link at `linkRel` stay inside the prefix? Resolves physically:
 * links created by the same archive and links already on disk are followed (at most 40 hops), so
 * `b -> .` plus `a -> b/../..` is caught. A dangling remainder is resolved lexically.
 */
export function linkStaysInside(prefix: string, linkRel: string, target: string, view: LinkView): boolean {
  if (target === '' || target.startsWith('/') || target.includes('\0') || target.includes('\\')) return false;
  const queue = target.split('/');
  const stack = parentOf(linkRel) === '' ? [] : parentOf(linkRel).split('/');
  let hops = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === '' || c === '.') continue;
    if (c === '..') {
      if (stack.length === 0) return false;
      stack.pop();
      continue;
    }
    const rel = stack.length ? `${stack.join('/')}/${c}` : c;
    let next = view.planned(rel);
    if (next === undefined && !view.removed?.(rel)) next = diskLink(prefix, rel);
    if (next !== undefined) {
      if (++hops > 40) return false;
      if (next === '' || next.startsWith('/') || next.includes('\\')) return false;
      queue.unshift(...next.split('/'));
      continue;
    }
    stack.push(c);
  }
  return true;
}

function diskLink(prefix: string, rel: string): string | undefined {
  try {
    const st = lstatSync(join(prefix, rel));
    return st.isSymbolicLink() ? readlinkSync(join(prefix, rel)) : undefined;
  } catch {
    return undefined;
  }
}
