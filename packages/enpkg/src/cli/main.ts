/**
 * enpkg's command line: argv -> command -> exit code. The only place that prints.
 *
 * Each command lives in its own module with a `register(program, ctx)` function; add new ones to
 * COMMANDS. Commands throw PkgError for failures: main prints `enpkg: error: <message>` and
 * `  hint: <hint>` on stderr and returns 1. Usage errors return 2; unexpected errors 70.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { PkgError } from '../errors.js';
import { runningManifest } from '../self/manifest.js';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

/** What every command gets: where to print, and the exit code to return. */
export interface CliContext {
  readonly io: CliIO;
  exitCode: number;
}

export type RegisterCommand = (program: Command, ctx: CliContext) => void;

/**
 * Each command module, with the command names it registers. Only the module of the command being
 * run is loaded (all of them for --help): module loading is most of a no-op run's time.
 */
const COMMANDS: readonly { names: readonly string[]; load: () => Promise<RegisterCommand> }[] = [
  { names: ['solve'], load: async () => (await import('./solve.js')).registerSolve },
  { names: ['repo', 'config', 'search', 'info'], load: async () => (await import('./repositories.js')).registerRepositoryCommands },
  { names: ['install', 'remove', 'update'], load: async () => (await import('./transact.js')).registerTransact },
  {
    names: ['list', 'freeze', 'history', 'revert', 'verify', 'mark'],
    load: async () => (await import('./installed.js')).registerInstalled,
  },
  { names: ['cache'], load: async () => (await import('./cache.js')).registerCache },
  { names: ['bootstrap', 'self-update'], load: async () => (await import('./self.js')).registerSelf },
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
};

function packageVersion(): string {
  const bundled = runningManifest();
  if (bundled) return bundled.version;
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** `enpkg: error: <message>` and the hint, as main prints a PkgError. */
export function formatError(e: PkgError): string {
  return `enpkg: error: ${e.message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`;
}

/** A reader that stops early (`enpkg search | head`) closes our stdout: stop writing, do not crash. */
function ignoreClosedPipes(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
    });
  }
}

/** Enstaller's spellings (`enpkg --list`, `enpkg -s numpy`, `enpkg --revert 3`...) as the commands they mean. */
const ALIASES: Record<string, string[]> = {
  '-s': ['search'],
  '--search': ['search'],
  '-l': ['list'],
  '--list': ['list'],
  '-i': ['info'],
  '--info': ['info'],
  '--remove': ['remove'],
  '--revert': ['revert'],
  '--log': ['history'],
  '--freeze': ['freeze'],
  '--update-all': ['update', '--all'],
};

export function enstallerAliases(argv: readonly string[]): readonly string[] {
  const i = argv.findIndex((a) => a in ALIASES);
  if (i === -1 || argv.slice(0, i).some((a) => !a.startsWith('-'))) return argv;
  return [...ALIASES[argv[i]!]!, ...argv.slice(0, i), ...argv.slice(i + 1)];
}

export async function main(argv: readonly string[], io: CliIO = processIO): Promise<number> {
  if (io === processIO) ignoreClosedPipes();
  const ctx: CliContext = { io, exitCode: 0 };
  const program = new Command('enpkg')
    .description('a package manager for .egg archives')
    .version(packageVersion(), '-V, --version')
    .exitOverride()
    // Options after a command name are that command's (`self-update --version V` is not `--version`).
    .enablePositionalOptions()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run "enpkg --help" for usage)');
  argv = enstallerAliases(argv);
  await registerCommands(program, ctx, argv);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ctx.exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    if (e instanceof PkgError) {
      io.stderr(formatError(e));
      return 1;
    }
    io.stderr(`enpkg: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    return 70;
  }
}
