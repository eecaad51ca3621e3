/**
 * The egginst command line: argv -> a library call -> text or JSON and an exit code. The only
 * module of egginst that prints. Exit statuses: see EXIT.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, CommanderError, Option } from 'commander';
import { ErrorCodes, PkgError, isPkgError } from './errors.js';
import { parseEggName } from './eggname.js';
import { describeFailure, isSystemError } from './failure.js';
import { listInstalled } from './record.js';
import { createRenderer, type Renderer } from './render.js';
import { recoverPrefix, runTransaction } from './transaction.js';
import { LINK_MODES, type LinkMode } from './link.js';
import { lockPrefix } from './lock.js';
import type { Change, EggJob } from './types.js';

/** The exit statuses. */
export const EXIT = {
  OK: 0,
  /** A failure; nothing was changed (after ROLLBACK_FAILED or RECOVERY_FAILED the message says what is left where). */
  FAILED: 1,
  USAGE: 2,
  /** Only for a bug in egginst (sysexits' EX_SOFTWARE). */
  INTERNAL: 70,
  /** Interrupted by SIGINT or SIGTERM, after everything was rolled back (128 + SIGINT, as shells report it). */
  INTERRUPTED: 130,
} as const;

interface Opts {
  prefix?: string;
  remove?: boolean;
  list?: boolean;
  scripts: boolean;
  python?: string;
  scriptTimeout?: number;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
  wait?: boolean;
  fsync: boolean;
  noapp?: boolean;
  pkgsDir?: string;
  store?: string;
  linkMode?: LinkMode;
}

/** The version: from manifest.json beside the code in enpkg's bundle, else from package.json. */
function version(): string {
  for (const file of [
    new URL('./manifest.json', import.meta.url),
    join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json'),
  ]) {
    try {
      return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

function program(): Command {
  return (
    new Command('egginst')
      .usage('[options] FILE.egg...  |  --remove NAME...  |  --list')
      .description('Install .egg archives into a prefix, or remove them, as one all-or-nothing transaction.')
      .argument('[args...]', 'egg files to install (or, with --remove, package names)')
      .option('-p, --prefix <dir>', 'the prefix to install into (default: $EGGINST_PREFIX)')
      .option('-r, --remove', 'remove the named packages')
      .option('-l, --list', 'list the installed packages')
      .option('--no-scripts', 'do not run post-install or pre-uninstall scripts (also EGGINST_NO_SCRIPTS=1)')
      .option('--python <path>', "Python for .py scripts, entry points and shebangs (default: the prefix's own, else python3 on PATH)")
      .addOption(
        new Option('--script-timeout <seconds>', 'kill a script (and its process group) after this long')
          .argParser(positiveNumber)
          .default(300),
      )
      .option('-f, --force', 'overwrite files owned by other packages; remove despite a failing pre-uninstall script')
      .option('--wait', 'wait for another egginst or enpkg working on the prefix, instead of failing')
      .option('--no-fsync', 'skip fsync (faster; a power cut may then lose the install, a crash still cannot)')
      .option('--noapp', "do not create desktop menu entries (Enstaller's flag; egginst never creates them here)")
      .option('--pkgs-dir <dir>', "accepted for Enstaller's scripts and ignored, as the original did")
      .option('--store <dir>', 'install from the package store in DIR, filling it with eggs it does not hold yet')
      .addOption(
        new Option('--link-mode <mode>', 'with --store: how files come from the store (default: $EGGINST_LINK_MODE, else auto)').choices(
          LINK_MODES,
        ),
      )
      .option('--json', 'print the result as JSON on stdout')
      .option('-q, --quiet', 'print only warnings and errors')
      .option('-v, --verbose', 'print every step and the output of scripts')
      .version(version(), '-V, --version')
      .addHelpText(
        'after',
        `
Exit status: 0 success, 1 failure (nothing was changed), 2 usage error, 130 interrupted (everything was
rolled back), 70 an internal error (a bug in egginst).
Examples:
  egginst --prefix /opt/app numpy-1.8.1-1.egg     install (or replace) a package
  egginst --prefix /opt/app --remove numpy        remove it
  egginst --prefix /opt/app --list --json         what is installed, as JSON`,
      )
      .exitOverride()
      // Usage errors are rendered like every other error (and as JSON with --json), not by commander.
      .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s), outputError: () => {} })
  );
}

function positiveNumber(v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0)
    throw new CommanderError(2, 'egginst.invalidArgument', `--script-timeout must be a positive number of seconds, not "${v}"`);
  return n;
}

export async function main(argv: string[]): Promise<number> {
  // A reader that stops early (`egginst --list | head`) closes stdout: stop writing, never crash
  // (a transaction must still finish or roll back properly).
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
  const cmd = program();
  // Read before parsing, so that a usage error is JSON too and a bug in parsing shows its stack with -v.
  const early = { json: argv.includes('--json'), verbose: argv.includes('-v') || argv.includes('--verbose') };
  const debug = (verbose: boolean): boolean => verbose || process.env.EGGINST_DEBUG === '1';
  try {
    cmd.parse(argv, { from: 'user' });
  } catch (e) {
    const out = createRenderer({ json: early.json, quiet: false, verbose: early.verbose, tty: false });
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return EXIT.OK;
      return report(out, usage(e.message.replace(/^error: /, ''), { reason: e.code }), false);
    }
    return report(out, e, debug(early.verbose));
  }
  const opts = cmd.opts<Opts>();
  const out = createRenderer({
    json: !!opts.json,
    quiet: !!opts.quiet,
    verbose: !!opts.verbose,
    tty: !!process.stderr.isTTY && !opts.json,
  });
  try {
    return await run(opts, cmd.args, out);
  } catch (e) {
    return report(out, e, debug(!!opts.verbose));
  } finally {
    out.done();
  }
}

/** Render a failure and say which exit status it is: a PkgError or a system error is a failure, anything else a bug. */
function report(out: Renderer, e: unknown, debug: boolean): number {
  const err = isSystemError(e) ? describeFailure(e, 'working on the prefix', () => ({ path: e.path ?? 'the prefix' })) : e;
  if (!isPkgError(err)) {
    out.internalError(err, debug);
    return EXIT.INTERNAL;
  }
  out.error(err);
  if (err.code === ErrorCodes.USAGE) return EXIT.USAGE;
  return err.code === ErrorCodes.INTERRUPTED ? EXIT.INTERRUPTED : EXIT.FAILED;
}

const APPINST_NOTE = 'desktop menu entries (EGG-INFO/inst/appinst.dat) are not created on this platform';

/**
 * What `--remove` takes: a package name, or (as Enstaller's egginst did) `name-version-build`,
 * `name-version-build.egg` or a path to such a file, which name the package.
 */
function removalKey(arg: string): string {
  const base = basename(arg);
  const id = parseEggName(base.endsWith('.egg') ? base : `${base}.egg`);
  return (id && (base.endsWith('.egg') || /-\d+$/.test(base)) ? id.key : arg).toLowerCase();
}

async function run(opts: Opts, args: string[], out: Renderer): Promise<number> {
  const prefixArg = opts.prefix ?? process.env.EGGINST_PREFIX;
  const modes = [opts.remove, opts.list].filter(Boolean).length;
  if (modes > 1) throw usage('--remove and --list cannot be combined');
  if (!prefixArg) throw usage('no prefix given: pass --prefix DIR or set EGGINST_PREFIX');
  const prefix = resolve(prefixArg);

  if (opts.list) {
    if (args.length) throw usage('--list takes no arguments');
    const lock = await lockPrefix(prefix, { wait: true, command: 'egginst --list' }).catch(() => null);
    try {
      if (lock) for (const r of recoverPrefix(prefix, out.reporter)) out.recovered(r.outcome);
      const pkgs = listInstalled(prefix);
      out.list(prefix, pkgs);
    } finally {
      await lock?.release();
    }
    return 0;
  }

  if (opts.linkMode && !opts.store) throw usage('--link-mode needs --store');
  if (args.length === 0)
    throw usage(opts.remove ? '--remove needs package names' : 'nothing to do: give egg files to install (see --help)');
  if (opts.noapp && opts.verbose && !opts.json) out.reporter.report({ type: 'info', message: APPINST_NOTE });
  const jobs: EggJob[] = opts.remove
    ? args.map((arg) => ({ kind: 'remove', key: removalKey(arg) }))
    : args.map((f) => ({ kind: 'install', eggPath: resolve(f) }));
  // An interrupt aborts the transaction, which then rolls back; more signals while it does so are
  // ignored, so that a second Ctrl-C cannot cut the rollback short (SIGKILL still can; recovery then finishes it).
  const controller = new AbortController();
  const onSignal = (): void => controller.abort();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const result = await runTransaction(jobs, {
      prefix,
      reporter: out.reporter,
      force: !!opts.force,
      noScripts: !opts.scripts || process.env.EGGINST_NO_SCRIPTS === '1',
      timeoutSeconds: opts.scriptTimeout ?? 300,
      durable: opts.fsync && process.env.EGGINST_NO_FSYNC !== '1',
      wait: !!opts.wait,
      signal: controller.signal,
      command: `egginst ${opts.remove ? '--remove ' : ''}${args.join(' ')}`.slice(0, 200),
      ...(opts.python ? { python: opts.python } : {}),
      ...(opts.store ? { store: { dir: resolve(opts.store), ...(opts.linkMode ? { linkMode: opts.linkMode } : {}) } } : {}),
    });
    for (const r of result.recovered) out.recovered(r.outcome);
    out.changes(prefix, result.changes as Change[], result.warnings);
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

function usage(message: string, details?: Record<string, unknown>): PkgError {
  return new PkgError(ErrorCodes.USAGE, message, { hint: 'see egginst --help', ...(details ? { details } : {}) });
}
