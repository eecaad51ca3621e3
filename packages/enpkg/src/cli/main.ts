/**
 * enpkg's command line: argv -> options -> operation -> render. The only place that prints.
 *
 * Each command lives in its own module with a `register(program, ctx)` function; add new ones to
 * COMMANDS. Exit statuses: 0 success, 1 failure (nothing changed), 2 usage (also under --json, which
 * then prints the JSON error), 130 interrupted (after the rollback), 70 a bug.
 */
import { statSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ErrorCodes, PkgError } from '../errors.js';
import { enpkgVersion } from '../self/manifest.js';
import { type CliContext, EXIT, exitStatus, internalError } from './common.js';
import { dropOptionsNotTaken, rewriteEnstallerArgv } from './enstaller-argv.js';
import { type CliIO, errorText, output } from './render.js';

export type { CliContext } from './common.js';
export type { CliIO } from './render.js';

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/**
 * Each command module, with the command names it registers. Only the module of the command being
 * run is loaded (all of them for --help): module loading is most of a no-op run's time.
 */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<RegisterCommand> }[] = [
  { names: ['solve'], load: async () => (await import('./solve.js')).registerSolve },
  { names: ['repo', 'config', 'search', 'info'], load: async () => (await import('./repositories.js')).registerRepositoryCommands },
  { names: ['install', 'remove', 'update', 'revert'], load: async () => (await import('./transact.js')).registerTransact },
  {
    names: ['list', 'freeze', 'history', 'verify', 'mark'],
    load: async () => (await import('./installed.js')).registerInstalled,
  },
  { names: ['cache'], load: async () => (await import('./cache.js')).registerCache },
  { names: ['bootstrap', 'self-update'], load: async () => (await import('./self.js')).registerSelf },
  { names: ['whats-new', 'env', 'imports'], load: async () => (await import('./prefix-info.js')).registerPrefixInfo },
];

async function registerCommands(program: Command, ctx: CliContext, argv: readonly string[]): Promise<void> {
  const name = argv.find((a) => !a.startsWith('-'));
  // `enpkg --version` needs no command at all; --help (and a mistake) needs them all.
  if (name === undefined && argv.length > 0 && argv.every((a) => a === '-V' || a === '--version')) return;
  const wanted = COMMANDS.filter((c) => name !== undefined && c.names.includes(name));
  for (const c of wanted.length ? wanted : COMMANDS) (await c.load())(program, ctx);
}

const processIO: CliIO = {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  interactive: process.stderr.isTTY === true && process.stdout.isTTY === true,
};

/** A reader that stops early (`enpkg search | head`) closes our stdout: stop writing, do not crash. */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  if (io === processIO) ignoreClosedPipes();
  const ctx: CliContext = { io, o: output(io), exitCode: EXIT.ok };
  const json = argv.includes('--json');
  const argvOptions = { isFile: (p: string) => statSync(p, { throwIfNoEntry: false })?.isFile() === true };
  let enstaller = false;
  try {
    ({ argv, enstaller } = rewriteEnstallerArgv(argv, argvOptions));
  } catch (e) {
    if (!(e instanceof PkgError)) throw e;
    if (json) ctx.o.json({ ok: false, error: e.toJSON() });
    else ctx.o.err(errorText(e));
    return EXIT.usage;
  }
  let usage: string | null = null;
  const program = new Command('enpkg')
    .description('a package manager for .egg archives')
    .version(enpkgVersion(), '-V, --version')
    .exitOverride()
    // Options after a command name are that command's (`self-update --version V` is not `--version`).
    .enablePositionalOptions()
    .configureOutput({
      writeOut: ctx.o.out,
      // Under --json a usage error is one JSON object on stdout instead.
      writeErr: (t) => (json ? (usage ??= t) : ctx.o.err(t)),
      outputError: (t, write) => write(t),
    })
    .showHelpAfterError('(run "enpkg --help" for usage)');
  try {
    await registerCommands(program, ctx, argv);
    const command = enstaller ? program.commands.find((c) => c.name() === argv[0]) : undefined;
    if (command) {
      const takes = (flag: string): boolean => command.options.some((o) => o.short === flag || o.long === flag);
      argv = dropOptionsNotTaken(argv, takes, argvOptions);
    }
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.exitCode === 0) return EXIT.ok;
      if (json) {
        const message = (usage ?? e.message).split('\n')[0]!.replace(/^error: /, '');
        ctx.o.json({ ok: false, error: new PkgError(ErrorCodes.USAGE, message, { hint: 'run "enpkg --help" for usage' }).toJSON() });
      }
      return EXIT.usage;
    }
    const err = e instanceof PkgError ? e : internalError(e);
    if (json) ctx.o.json({ ok: false, error: err.toJSON() });
    else ctx.o.err(errorText(err));
    return exitStatus(err);
  }
}
