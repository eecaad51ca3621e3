/**
 * Repository locations: a directory, a `file://` URL, or an `https://` (or, for a repository marked
 * insecure, `http://`) base URL; and URLs as they may be shown (credentials and query redacted).
 */
import { homedir } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from './errors.js';
import type { RepoLocation } from './types.js';

/** A URL as it may be printed: no user name, no password, no query (signed URLs carry secrets there). */
export function redactUrl(url: string | URL): string {
  let u: URL;
  try {
    u = new URL(String(url));
  } catch {
    return '<invalid URL>';
  }
  const hadCredentials = u.username !== '' || u.password !== '';
  u.username = '';
  u.password = '';
  const query = u.search !== '';
  u.search = '';
  u.hash = '';
  let text = u.toString();
  if (hadCredentials) text = text.replace('://', '://***@');
  return query ? `${text}?***` : text;
}

/**
 * A location as typed (a path, or a URL that may not even parse) as it may be shown: a URL loses its
 * credentials and query, a path is shown as it is.
 */
export function redactLocationText(text: string): string {
  if (!URL_SCHEME.test(text) || DRIVE_PATH.test(text)) return text;
  // `user:password@host/path` (scp style) parses as a URL without credentials: cut before the "@".
  if (/^[A-Za-z][A-Za-z0-9+.-]*:(?!\/\/)[^/]*@/.test(text)) return text.replace(/^([A-Za-z][A-Za-z0-9+.-]*:)[^/]*@/, '$1***@');
  const shown = redactUrl(text);
  if (shown !== '<invalid URL>') return shown;
  // Not a URL the parser takes: cut whatever could be credentials (before the last "@" of the authority) and the query.
  return text.replace(/^([^:]*:\/\/)[^/?#]*@/, '$1***@').replace(/[?#][\s\S]*$/, '?***');
}

const URL_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const DRIVE_PATH = /^[A-Za-z]:[\\/]/;

export function expandHome(path: string, home = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return home + path.slice(1);
  return path;
}

function locationError(text: string, where: string, why: string, hint: string): PkgError {
  return new PkgError(RepoErrorCodes.REPO_URL_INVALID, `${where}: ${why}`, {
    hint,
    details: { location: redactLocationText(text) },
  });
}

export interface ParseLocationOptions {
  /** Relative paths are resolved against this directory (the config file's, or the working directory). */
  readonly baseDir: string;
  /** Names the setting in errors, e.g. `config.yaml: repositories[0].url`. */
  readonly where: string;
  /** Plain http allowed (the repository is marked insecure). */
  readonly insecure: boolean;
  /** For `~/` (default: the user's home directory). */
  readonly home?: string;
}

/** Parse a configured location; errors name the setting and say what to write instead. */
export function parseLocation(text: string, opts: ParseLocationOptions): RepoLocation {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1]?.toLowerCase();
  if (scheme === undefined || /^[A-Za-z]:[\\/]/.test(text)) {
    if (text.trim() === '')
      throw locationError(text, opts.where, 'the repository location is empty', 'give a directory, a file:// URL or an https:// URL');
    return { kind: 'dir', path: resolve(opts.baseDir, expandHome(text, opts.home)) };
  }
  if (scheme === 'file') {
    let path: string;
    try {
      path = fileURLToPath(text);
    } catch (_e) {
      throw locationError(text, opts.where, `${redactLocationText(text)} is not a local file URL`, 'write file:///absolute/path (no host)');
    }
    if (!isAbsolute(path))
      throw locationError(text, opts.where, `${redactLocationText(text)} is not absolute`, 'write file:///absolute/path');
    return { kind: 'dir', path };
  }
  if (scheme !== 'https' && scheme !== 'http') {
    throw locationError(
      text,
      opts.where,
      `unsupported scheme "${scheme}:" in ${redactLocationText(text)}`,
      'use a directory, a file:// URL or an https:// URL',
    );
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw locationError(text, opts.where, `${redactLocationText(text)} is not a valid URL`, 'write https://host/path/');
  }
  if (url.username !== '' || url.password !== '') {
    throw locationError(
      text,
      opts.where,
      `${redactUrl(url)} has credentials in it`,
      'remove them from the URL and configure the repository\'s "auth" (token or user/password from the environment or a file)',
    );
  }
  if (url.search !== '' || url.hash !== '') {
    throw locationError(
      text,
      opts.where,
      `${redactUrl(url)} has a query or fragment`,
      'give the repository\'s base URL, without "?" or "#"',
    );
  }
  if (scheme === 'http' && !opts.insecure) {
    throw new PkgError(
      RepoErrorCodes.REPO_INSECURE,
      `${opts.where}: ${redactUrl(url)} is plain http, which anyone on the network can read and change`,
      {
        hint: 'use https://, or mark the repository "insecure: true" in the configuration if you accept the risk',
        details: { location: redactUrl(url) },
      },
    );
  }
  if (!url.pathname.endsWith('/')) url.pathname += '/';
  return { kind: 'http', url: url.toString() };
}

/** The location as shown to the user (redacted URL, or the directory). */
export function describeLocation(loc: RepoLocation): string {
  return loc.kind === 'dir' ? loc.path : redactUrl(loc.url);
}

/** A stable identity of the location (for the cache and the serial store). */
export function locationKey(loc: RepoLocation): string {
  return loc.kind === 'dir' ? `dir:${loc.path}` : `url:${loc.url}`;
}
