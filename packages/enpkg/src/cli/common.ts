/**
 * What the repository commands share: the configuration options (--config, --prefix, --repo,
 * --offline), the reporter that renders library events, --json output, and making hostile strings
 * (from an index) safe to print on a terminal.
 */
import type { Command } from 'commander';
import type { Warning } from 'egginst';
import { loadConfig } from '../config.js';
import { PkgError } from '../errors.js';
import type { EnpkgConfig, RepoReporter } from '../repo/types.js';
import type { CliContext } from './main.js';

export interface ConfigOptions {
  config?: string;
  prefix?: string;
  repo?: string[];
  offline?: boolean;
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** --config, --prefix, --repo (repeatable); --offline for commands that read indexes. */
export function addConfigOptions(cmd: Command, { offline }: { offline: boolean }): Command {
  cmd
    .option('--config <file>', 'the configuration file (default: $ENPKG_CONFIG, <prefix>/.enpkg/config.yaml, ~/.config/enpkg/config.yaml)')
    .option(
      '-p, --prefix <dir>',
      "the prefix (default: $ENPKG_PREFIX, the prefix of the launcher bin/enpkg, then the configuration's prefix)",
    )
    .option('--repo <url|dir>', 'use this repository instead of the configured ones (repeatable; a configured name also works)', collect);
  if (offline) cmd.option('--offline', 'use the cached indexes only; fetch nothing');
  return addOutputOptions(cmd);
}

export function addOutputOptions(cmd: Command): Command {
  return cmd
    .option('--json', 'print the result (or the error) as one JSON object')
    .option('-v, --verbose', 'print every step')
    .option('-q, --quiet', 'print warnings and errors only');
}

export function configFrom(opts: ConfigOptions): EnpkgConfig {
  return loadConfig({ configFile: opts.config, prefix: opts.prefix, repos: opts.repo });
}

const CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_NEWLINE = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const escapeChar = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** Replace control characters (C0, DEL, C1, bidi) so that a hostile string cannot drive the terminal. */
export function safe(text: string): string {
  return text.replace(CONTROL, escapeChar);
}

/** Like `safe`, for text of several lines. */
export function safeLines(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeChar);
}

/** JSON for stdout: C1 controls and bidi overrides escaped too (JSON.stringify leaves them raw). */
export function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2).replace(/[\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}\n`;
}

export interface CliReporter extends RepoReporter {
  readonly warnings: Warning[];
}

/** Warnings to stderr (collected for --json instead), detail with -v. */
export function cliReporter(ctx: CliContext, opts: ConfigOptions): CliReporter {
  const warnings: Warning[] = [];
  return {
    warnings,
    warn(w) {
      warnings.push(w);
      if (!opts.json) ctx.io.stderr(`enpkg: warning: ${safe(w.message)}\n`);
    },
    info(message) {
      if (opts.verbose && !opts.json) ctx.io.stderr(`enpkg: ${safe(message)}\n`);
    },
  };
}

/**
 * Run a command body; with --json a PkgError becomes `{"ok": false, "error": {...}}` on stdout and
 * exit status 1 (without --json it propagates to main, which prints it).
 */
export async function runJsonAware(ctx: CliContext, opts: ConfigOptions, body: () => Promise<void> | void): Promise<void> {
  try {
    await body();
  } catch (e) {
    if (!opts.json || !(e instanceof PkgError)) throw e;
    ctx.io.stdout(toJson({ ok: false, error: e.toJSON() }));
    ctx.exitCode = 1;
  }
}

export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}
