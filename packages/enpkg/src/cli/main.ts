/**
 * enpkg's command line: argv -> options -> operation -> render. The only place that prints.
 *
 * Each command lives in its own module with a `register(program, ctx)` function; add new ones to
 * COMMANDS. Exit statuses: 0 success, 1 failure (nothing changed), 2 usage (also under --json, which
 * then prints the JSON error), 130 interrupted (after the rollback), 70 a bug.
 */
import { leanYoungGeneration } from '../heap.js';
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

/** `enpkg --help`: Enstaller's spellings beside the subcommands (docs/enstaller.md has the rest). */
const ENSTALLER_HELP = `
Enstaller's command line works too, options in any position (docs/enstaller.md):
  enpkg NAME [VERSION] ...         install   (enpkg numpy 1.8.0 = enpkg install "numpy 1.8.0")
  enpkg -l, --list [PATTERN]       list      enpkg -s, --search [PATTERN]   search
  enpkg -i, --info NAME            info      enpkg --remove NAME ...        remove
  enpkg --revert REV               revert    enpkg --log                    history
  enpkg --freeze                   freeze    enpkg --update-all             update --all
  enpkg --whats-new                whats-new enpkg --env                    env
  enpkg --imports                  imports   enpkg --config                 config (show it)
  enpkg --add-url URL              config --add-url URL
  enpkg --userpass                 config --userpass
  -n dry run, -N no dependencies, -f force, --forceall, -y yes, -q quiet, -v verbose;
  --prefix DIR, --user, --sys-prefix, -c/--config-path FILE, --sys-config, --proxy URL,
  -k/--insecure, --max-retries N, --no-autoupdate, --repo, --json, --offline, --wait.
  --config: alone it shows the configuration (Enstaller); followed by a file (an existing one, or a
  path with "/" or a .yaml/.yml/rc name) it names the file to read, as -c FILE does.`;

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
  if (io === processIO) {
    ignoreClosedPipes();
    leanYoungGeneration();
  }
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
    .showHelpAfterError('(run "enpkg --help" for usage)')
    .addHelpText('after', ENSTALLER_HELP);
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
