/**
 * What the commands share: the context (where to print, the exit status), the options every command
 * takes and their checks, the configuration from them, the question on a terminal, and `run`, which
 * turns a command body's outcome (or error, or Ctrl-C) into output and an exit status.
 */
import { createInterface } from 'node:readline/promises';
import { type Command, InvalidArgumentError } from 'commander';
import { EnpkgErrorCodes, ErrorCodes, PkgError } from '../errors.js';
import { RepoWarningCodes } from '../repo/errors.js';
import { type LoadConfigOptions, loadConfig } from '../config.js';
import type { Confirm, OperationOptions, Question } from '../ops/types.js';
import type { EnpkgConfig } from '../repo/types.js';
import type { Reporter } from '../report.js';
import { type CliIO, cliReporter, errorText, type Output, type OutputFlags, planText } from './render.js';

/** What every command gets: where to print, and the exit status to return. */
export interface CliContext {
  readonly io: CliIO;
  readonly o: Output;
  exitCode: number;
}

/** Exit statuses (README): 0 success, 1 failure with nothing changed, 2 usage, 130 interrupted, 70 a bug. */
export const EXIT = { ok: 0, failed: 1, usage: 2, bug: 70, interrupted: 130 } as const;

export function exitStatus(e: PkgError): number {
  if (e.code === ErrorCodes.USAGE) return EXIT.usage;
  if (e.code === ErrorCodes.INTERRUPTED) return EXIT.interrupted;
  if (e.code === EnpkgErrorCodes.INTERNAL) return EXIT.bug;
  return EXIT.failed;
}

/** An unexpected error: a bug, said as one. */
export function internalError(e: unknown): PkgError {
  const message = e instanceof Error ? e.message : String(e);
  return new PkgError(EnpkgErrorCodes.INTERNAL, `internal error: ${message}`, {
    hint: 'this is a bug in enpkg: please report it with the command you ran (run with ENPKG_DEBUG=1 for the stack trace)',
    cause: e,
  });
}

export interface ConfigOptions extends OutputFlags {
  config?: string;
  configPath?: string;
  prefix?: string;
  repo?: string[];
  offline?: boolean;
  wait?: boolean;
  proxy?: string;
  insecure?: boolean;
  maxRetries?: number;
  /** False with --no-autoupdate. */
  autoupdate?: boolean;
  sysConfig?: boolean;
  sysPrefix?: boolean;
  user?: boolean;
}

/** An option value that must not be empty (`--prefix ""` from an unset variable means a mistake). */
export function nonEmpty(what: string): (value: string) => string {
  return (value) => {
    if (value.trim() === '') throw new InvalidArgumentError(`${what} cannot be empty`);
    return value;
  };
}

const collectNonEmpty =
  (what: string) =>
  (value: string, previous: string[] = []): string[] => [...previous, nonEmpty(what)(value)];

function retries(value: string): number {
  if (!/^\d{1,2}$/.test(value) || Number(value) > 20) throw new InvalidArgumentError('expected a whole number from 0 to 20');
  return Number(value);
}

/**
 * --config (-c, --config-path), --prefix (--user, --sys-prefix), --repo (repeatable), Enstaller's
 * network and configuration options; --offline for commands that read indexes.
 */
export function addConfigOptions(cmd: Command, { offline }: { offline: boolean }): Command {
  cmd
    .option(
      '--config <file>',
      'the configuration file (default: $ENPKG_CONFIG, <prefix>/.enpkg/config.yaml, ~/.config/enpkg/config.yaml, ' +
        '<prefix>/.enstaller4rc, ~/.enstaller4rc); "enpkg --config" alone shows the configuration',
      nonEmpty('--config'),
    )
    .option('-c, --config-path <file>', "the same as --config FILE (Enstaller's spelling)", nonEmpty('--config-path'))
    .option('--user', 'use the per-user prefix ($XDG_DATA_HOME/enpkg/prefix)')
    .option('--sys-prefix', 'use the prefix enpkg itself runs from (its bin/enpkg launcher)')
    .option('--sys-config', "read the prefix's configuration only, not the user's")
    .option('--proxy <url>', 'the proxy for http and https (http://[user:password@]host:port)', nonEmpty('--proxy'))
    .option('-k, --insecure', 'do not verify TLS certificates (warned about on every run)')
    .option('--max-retries <n>', 'retries after a connection error, a timeout or a 5xx (0 to 20)', retries)
    .option('--no-autoupdate', 'do not update enpkg itself first, whatever the configuration says')
    .option(
      '-p, --prefix <dir>',
      "the prefix (default: $ENPKG_PREFIX, the prefix of the launcher bin/enpkg, then the configuration's prefix)",
      nonEmpty('--prefix'),
    )
    .option(
      '--repo <url|dir>',
      'use this repository instead of the configured ones (repeatable; a configured name also works)',
      collectNonEmpty('--repo'),
    );
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
  return loadConfig(configLoadOptions(opts));
}

/** What loadConfig takes, from the command's flags. */
export function configLoadOptions(opts: ConfigOptions): LoadConfigOptions {
  if (opts.config !== undefined && opts.configPath !== undefined && opts.config !== opts.configPath) {
    throw new PkgError(ErrorCodes.USAGE, 'give --config FILE or -c/--config-path FILE, not both', { hint: 'they mean the same' });
  }
  return {
    configFile: opts.config ?? opts.configPath,
    prefix: opts.prefix,
    repos: opts.repo,
    proxy: opts.proxy,
    insecure: opts.insecure,
    maxRetries: opts.maxRetries,
    noAutoupdate: opts.autoupdate === false,
    sysConfig: opts.sysConfig,
    sysPrefix: opts.sysPrefix,
    user: opts.user,
  };
}

/** The command line as history records it. */
export const commandLine = (): string => `enpkg ${process.argv.slice(2).join(' ')}`.slice(0, 500);

/** Ask on a terminal; yes with -y or --json, and when nobody can answer. */
async function ask(ctx: CliContext, flags: { yes?: boolean; json?: boolean }, question: string): Promise<boolean> {
  if (flags.yes || !canAsk(ctx, flags)) return true;
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `)).trim());
  } finally {
    rl.close();
  }
}

/**
 * Ask for one line on the terminal (`--userpass`): echoed, or not at all for a password. Without a
 * terminal it is a usage error, never a read of a pipe.
 */
export async function promptLine(ctx: CliContext, prompt: string, hidden: boolean): Promise<string> {
  const stdin = process.stdin;
  if (!stdin.isTTY) {
    throw new PkgError(ErrorCodes.USAGE, 'this asks on a terminal, and there is none (stdin is not a terminal)', {
      hint: 'run it in a terminal; or write auth: {credentials: {file: PATH}} in the configuration (see docs/enstaller.md)',
    });
  }
  if (!hidden) {
    const rl = createInterface({ input: stdin, output: process.stderr, terminal: true });
    try {
      return (await rl.question(prompt)).trim();
    } finally {
      rl.close();
    }
  }
  // Raw (no echo) before the prompt shows: whatever is typed after it is never echoed.
  stdin.setRawMode(true);
  ctx.o.err(prompt);
  stdin.resume();
  try {
    return await new Promise<string>((done, fail) => {
      let line = '';
      const onData = (chunk: Buffer): void => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n' || ch === '\u0004') {
            stdin.off('data', onData);
            done(line);
            return;
          }
          if (ch === '\u0003') {
            stdin.off('data', onData);
            fail(new PkgError(ErrorCodes.INTERRUPTED, 'interrupted: nothing was changed', { hint: 'run the command again' }));
            return;
          }
          if (ch === '\u007f' || ch === '\b') line = line.slice(0, -1);
          else line += ch;
        }
      };
      stdin.on('data', onData);
    });
  } finally {
    stdin.setRawMode(false);
    stdin.pause();
    ctx.o.err('\n');
  }
}

function questionText(q: Question): string {
  switch (q.kind) {
    case 'transaction':
      return 'Proceed?';
    case 'self-update':
      return `${q.downgrade ? 'Downgrade' : 'Update'} enpkg?`;
    case 'self-rollback':
      return `Go back from enpkg ${q.from} to ${q.to}?`;
    case 'autoupdate':
      return `enpkg ${q.to} is available (this is ${q.from}). Update enpkg first?`;
  }
}

/** What a question shows before it is asked (the plan, the version change), whether asked or not. */
function questionPreamble(q: Question): string {
  switch (q.kind) {
    case 'transaction':
      return `These changes will be made to ${q.prefix}:\n${planText(q.plan)}`;
    case 'self-update':
      return `${q.downgrade ? 'Downgrade' : 'Update'} enpkg ${q.from} -> ${q.to} (from ${q.repository})\n`;
    default:
      return '';
  }
}

/** Whether a question can be put to a person: a terminal on both sides, and not --json. */
function canAsk(ctx: CliContext, flags: { json?: boolean }): boolean {
  return !flags.json && ctx.io.interactive === true && process.stdin.isTTY === true;
}

export function confirmer(ctx: CliContext, flags: { yes?: boolean; json?: boolean; quiet?: boolean }): Confirm {
  return async (q) => {
    // A removal that takes more than was named is never answered for a user who cannot be asked.
    if (q.kind === 'transaction' && q.unnamedRemovals?.length && !flags.yes && !canAsk(ctx, flags)) {
      const n = q.unnamedRemovals.length;
      throw new PkgError(
        EnpkgErrorCodes.REMOVE_NOT_CONFIRMED,
        `this removal would also remove ${n} package${n === 1 ? '' : 's'} you did not name: ` +
          `${q.unnamedRemovals.join(', ')}; nothing was changed`,
        {
          hint: 'add -y to remove them too, or -N/--no-deps to remove only the named packages (--force if that leaves others broken)',
          details: { packages: [...q.unnamedRemovals] },
        },
      );
    }
    if (!flags.json && !flags.quiet) ctx.o.out(questionPreamble(q));
    const yes = await ask(ctx, flags, questionText(q));
    if (yes && q.kind === 'autoupdate' && !flags.json && !flags.quiet)
      ctx.o.err(`updating enpkg ${q.from} -> ${q.to} first (autoupdate)\n`);
    return yes;
  };
}

/** What `run` gives a command body: the operation options every command builds the same way. */
export interface RunScope {
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  /** The configuration from the command's flags, read once; what reading it warned of is reported once. */
  config(): EnpkgConfig;
  /** config, command, reporter, signal, wait, offline: the common part of an operation's options. */
  operation(config: EnpkgConfig, extra?: { confirm?: Confirm }): OperationOptions;
}

/**
 * Run a command body: SIGINT and SIGTERM abort its operation (which rolls back, then exits 130);
 * a PkgError becomes the error text on stderr, or `{"ok": false, "error": ...}` on stdout with
 * --json, and its exit status; anything else is a bug (70).
 */
export async function run(ctx: CliContext, flags: ConfigOptions, body: (scope: RunScope) => Promise<void> | void): Promise<void> {
  const controller = new AbortController();
  let signals = 0;
  const onSignal = (): void => {
    signals++;
    if (signals === 1) controller.abort();
    else if (!flags.json) ctx.o.err('enpkg: stopping: putting the prefix back as it was (kill -9 is safe too: the next run finishes it)\n');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const reporter = await cliReporter(ctx.io, flags);
    let config: EnpkgConfig | undefined;
    await body({
      reporter,
      signal: controller.signal,
      config: () => {
        if (config) return config;
        config = configFrom(flags);
        for (const w of config.warnings) {
          reporter.report({ type: 'warning', warning: { code: RepoWarningCodes.CONFIG_KEY_IGNORED, message: w.message, subject: w.key } });
        }
        return config;
      },
      operation: (config, extra = {}) => ({
        config,
        command: commandLine(),
        reporter,
        signal: controller.signal,
        wait: flags.wait === true,
        offline: flags.offline === true,
        ...(extra.confirm ? { confirm: extra.confirm } : {}),
      }),
    });
  } catch (e) {
    const err = e instanceof PkgError ? e : internalError(e);
    if (flags.json) ctx.o.json({ ok: false, error: err.toJSON() });
    else ctx.o.err(errorText(err, flags.verbose === true));
    if (!(e instanceof PkgError) && process.env.ENPKG_DEBUG === '1') ctx.o.err(`${(e as Error)?.stack ?? String(e)}\n`);
    ctx.exitCode = exitStatus(err);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
