/**
 * Changing the configuration the way Enstaller's options did: `--add-url URL` (a repository appended
 * to the file in use, which is created when there is none), `--userpass` (credentials into a mode-0600
 * file that the configuration names, never into the configuration itself), and
 * `config --import-enstaller` (an Enstaller file written as our YAML, its secrets into such files).
 * Every file is replaced atomically (egginst's writeFileDurably); comments of a YAML file are kept.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileDurably } from 'egginst/core';
import { Document, isMap, isSeq, parseDocument, stringify } from 'yaml';
import { ENSTALLER4RC, loadConfig, type LoadConfigOptions, readTranslatedConfig, userConfigFile } from './config.js';
import { ErrorCodes, PkgError } from './errors.js';
import { parseProxy } from './http/proxy.js';
import { RepoErrorCodes } from './repo/errors.js';
import type { AuthConfig, EnpkgConfig, SecretSource } from './repo/types.js';

export interface ConfigEditResult {
  /** The configuration file written. */
  readonly file: string;
  /** Whether it was created by this edit. */
  readonly created: boolean;
  /** Secret files written beside it (mode 0600). */
  readonly secretFiles: readonly string[];
}

/** The credentials file beside a configuration file. */
export const CREDENTIALS_FILE = 'credentials';

function writeFailed(file: string, e: unknown): PkgError {
  return new PkgError(RepoErrorCodes.CONFIG_INVALID, `cannot write ${file}: ${(e as NodeJS.ErrnoException).code ?? String(e)}`, {
    hint: 'check that the directory exists and that you may write it',
    cause: e,
    details: { file },
  });
}

function write(file: string, text: string, mode = 0o644): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileDurably(file, text, { mode });
    chmodSync(file, mode);
  } catch (e) {
    throw writeFailed(file, e);
  }
}

/** The file an edit goes to: the one in use, else (none) the user's config.yaml, created. */
function fileToEdit(cfg: EnpkgConfig, opts: LoadConfigOptions): { file: string; exists: boolean } {
  if (cfg.file) return { file: cfg.file, exists: true };
  return { file: userConfigFile(opts.env ?? process.env, opts.home ?? homedir()), exists: false };
}

/** Append to `IndexedRepos = [...]` in a .enstaller4rc's text (or add that line), checked by parsing the result. */
function appendToIndexedRepos(text: string, url: string, file: string): string {
  if (/['"\\\r\n]/.test(url)) {
    throw new PkgError(ErrorCodes.USAGE, `--add-url: ${JSON.stringify(url)} cannot be written in ${file} (a quote or a backslash)`);
  }
  const start = /^IndexedRepos\s*=\s*\[/m.exec(text);
  let out: string;
  if (!start) out = `${text}${text.endsWith('\n') || text === '' ? '' : '\n'}IndexedRepos = [\n    '${url}',\n]\n`;
  else {
    // The list's closing bracket, and the last character before it that is not blank or a comment.
    let i = start.index + start[0].length;
    let last = i - 1;
    let quote: string | null = null;
    for (; i < text.length; i++) {
      const ch = text[i]!;
      if (quote) {
        if (ch === '\\') i++;
        else if (ch === quote) quote = null;
        last = i;
      } else if (ch === "'" || ch === '"') [quote, last] = [ch, i];
      else if (ch === '#') while (i < text.length && text[i] !== '\n') i++;
      else if (ch === ']') break;
      else if (!/\s/.test(ch)) last = i;
    }
    const sep = text[last] === '[' || text[last] === ',' ? '' : ',';
    out = `${text.slice(0, last + 1)}${sep}${text.slice(last + 1, i).trimEnd()}\n    '${url}',\n${text.slice(i)}`;
  }
  return out;
}

/** `--add-url URL`: a repository appended to the configuration in use (created when there is none). */
export function addRepositoryUrl(url: string, opts: LoadConfigOptions): ConfigEditResult {
  const cfg = loadConfig(opts);
  const { file, exists } = fileToEdit(cfg, opts);
  const text = exists ? readFileSync(file, 'utf8') : '';
  let out: string;
  if (cfg.format === 'enstaller4rc') out = appendToIndexedRepos(text, url, file);
  else {
    const doc = editableDocument(text);
    const repos = doc.get('repositories');
    if (isSeq(repos)) repos.add(doc.createNode(url));
    else doc.set('repositories', doc.createNode([url]));
    out = doc.toString({ lineWidth: 0 });
  }
  // What would be written must read back as a valid configuration with the new repository.
  checkReadsBack(file, out, opts, (c) => c.repositories.length > cfg.repositories.length || cfg.repositories.length === 0);
  write(file, out);
  return { file, created: !exists, secretFiles: [] };
}

/** A YAML configuration to edit (its comments kept); an empty one is a new mapping. */
function editableDocument(text: string): Document {
  const doc = parseDocument(text);
  return doc.contents && isMap(doc.contents) ? doc : new Document({});
}

/** Parse `text` as the file would be, without writing it; `ok` says whether it has what the edit added. */
function checkReadsBack(file: string, text: string, opts: LoadConfigOptions, ok: (c: EnpkgConfig) => boolean): void {
  const probe = join(dirname(file), `.${basename(file)}.check-${process.pid}`);
  write(probe, text);
  try {
    const cfg = loadConfig({ ...opts, configFile: probe, repos: [] });
    if (!ok(cfg))
      throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${file}: the change did not read back as intended; nothing was written`);
  } finally {
    rmSync(probe, { force: true });
  }
}

/** `--userpass`: `user:password` into a mode-0600 credentials file beside the configuration, which names it. */
export function storeCredentials(user: string, password: string, opts: LoadConfigOptions): ConfigEditResult {
  if (user === '' || user.includes(':') || /[\r\n]/.test(user + password)) {
    throw new PkgError(ErrorCodes.USAGE, 'a user name must be non-empty, without ":"; neither may span lines', {
      hint: 'run enpkg --userpass again',
    });
  }
  const cfg = loadConfig(opts);
  if (cfg.format === 'enstaller4rc' || cfg.format === 'enstaller-yaml') {
    throw new PkgError(
      RepoErrorCodes.CONFIG_INVALID,
      `${cfg.file} is Enstaller's configuration, which could only hold the password itself`,
      {
        hint: 'run "enpkg config --import-enstaller" to write ours, then enpkg --userpass again',
        details: { file: cfg.file },
      },
    );
  }
  const { file, exists } = fileToEdit(cfg, opts);
  const secretFile = join(dirname(file), CREDENTIALS_FILE);
  const doc = editableDocument(exists ? readFileSync(file, 'utf8') : '');
  doc.set('auth', doc.createNode({ credentials: { file: CREDENTIALS_FILE } }));
  const out = doc.toString({ lineWidth: 0 });
  checkReadsBack(file, out, opts, () => true);
  write(secretFile, `${user}:${password}\n`, 0o600);
  write(file, out);
  return { file, created: !exists, secretFiles: [secretFile] };
}

/** `config --import-enstaller`: the Enstaller file in use as our YAML, beside it in `.enpkg/` or the user's. */
export function importEnstallerConfig(opts: LoadConfigOptions): ConfigEditResult & { source: string } {
  const cfg = loadConfig(opts);
  if (!cfg.file || (cfg.format !== 'enstaller4rc' && cfg.format !== 'enstaller-yaml')) {
    throw new PkgError(RepoErrorCodes.CONFIG_NOT_FOUND, `no Enstaller configuration is in use (${cfg.file ?? 'no file at all'})`, {
      hint: `name it with -c FILE (e.g. -c ~/${ENSTALLER4RC})`,
    });
  }
  const source = cfg.file;
  const t = readTranslatedConfig(source);
  const target =
    basename(source) === ENSTALLER4RC && cfg.prefix && dirname(source) === cfg.prefix
      ? join(cfg.prefix, '.enpkg', 'config.yaml')
      : userConfigFile(opts.env ?? process.env, opts.home ?? homedir());
  if (existsSync(target)) {
    throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${target} exists already; nothing was written`, {
      hint: 'move it aside (or merge by hand), then run enpkg config --import-enstaller again',
      details: { file: target },
    });
  }
  const data: Record<string, unknown> = { ...t.data };
  const secrets: [string, string][] = [];
  const secretRef = (name: string, s: SecretSource): SecretSource => {
    if (!('value' in s)) return s;
    secrets.push([join(dirname(target), name), `${s.value}\n`]);
    return { file: name };
  };
  const auth = t.auth;
  if (auth) data.auth = authYaml(auth, secretRef);
  if (t.proxy) {
    const p = parseProxy(t.proxy, `${source}: proxy`);
    const network = (data.network ??= {}) as Record<string, unknown>;
    network.proxy =
      p.password === null
        ? p.url
        : { url: p.url, ...(typeof p.user === 'string' ? { user: p.user } : {}), password: secretRef('proxy-password', p.password) };
  }
  const text = `# Written by "enpkg config --import-enstaller" from ${source}.\n${stringify(data, { lineWidth: 0 })}`;
  checkReadsBack(target, text, { ...opts, configFile: target }, () => true);
  for (const [f, v] of secrets) write(f, v, 0o600);
  write(target, text);
  return { file: target, created: true, secretFiles: secrets.map(([f]) => f), source };
}

function authYaml(a: AuthConfig, ref: (name: string, s: SecretSource) => SecretSource): Record<string, unknown> {
  if (a.kind === 'token') return { token: ref('token', a.token) };
  if (a.kind === 'credentials') return { credentials: ref(CREDENTIALS_FILE, a.credentials) };
  if (typeof a.user === 'string' && 'value' in a.password) {
    return { credentials: ref(CREDENTIALS_FILE, { value: `${a.user}:${a.password.value}`, from: a.password.from }) };
  }
  return { user: typeof a.user === 'string' ? a.user : ref('user', a.user), password: ref('password', a.password) };
}
