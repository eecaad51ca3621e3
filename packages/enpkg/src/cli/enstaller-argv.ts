/**
 * Enstaller's command line as today's commands: `enpkg numpy` installs, `enpkg numpy 1.8.0` means
 * `numpy 1.8.0`, `enpkg -l [PATTERN]`, `enpkg --prefix P --remove foo -n`... Enstaller's actions
 * (`-l`, `-s`, `-i`, `--remove`, `--revert REV`, `--log`, ...) and its options work in any position.
 * Options written before a subcommand (`enpkg --prefix P list`) are moved after it. A pure function of
 * argv (and of which files exist, for `--config`'s optional value).
 */
import { ErrorCodes, PkgError } from '../errors.js';

/** The subcommands (today's spelling); argv naming one first is passed through, options reordered. */
export const SUBCOMMANDS: ReadonlySet<string> = new Set([
  'solve',
  'repo',
  'config',
  'search',
  'info',
  'install',
  'remove',
  'update',
  'revert',
  'list',
  'freeze',
  'history',
  'verify',
  'mark',
  'cache',
  'bootstrap',
  'self-update',
  'whats-new',
  'env',
  'imports',
  'help',
]);

/** Options that take the next argument as their value (wherever they are written). */
const VALUE_OPTIONS: ReadonlySet<string> = new Set([
  '--prefix',
  '-p',
  '--repo',
  '-c',
  '--config-path',
  '--proxy',
  '--max-retries',
  '-r',
  '--requirements',
]);

/** Enstaller's actions: the command each means, and whether it takes the next argument as its value. */
const ACTIONS: ReadonlyMap<string, { readonly command: readonly string[]; readonly value?: true; readonly args: 'none' | 'one' | 'many' }> =
  new Map([
    ['-l', { command: ['list'], args: 'one' }],
    ['--list', { command: ['list'], args: 'one' }],
    ['-s', { command: ['search'], args: 'one' }],
    ['--search', { command: ['search'], args: 'one' }],
    ['-i', { command: ['info'], args: 'one' }],
    ['--info', { command: ['info'], args: 'one' }],
    ['--remove', { command: ['remove'], args: 'many' }],
    ['--revert', { command: ['revert'], value: true, args: 'none' }],
    ['--log', { command: ['history'], args: 'none' }],
    ['--freeze', { command: ['freeze'], args: 'none' }],
    ['--update-all', { command: ['update', '--all'], args: 'none' }],
    ['--whats-new', { command: ['whats-new'], args: 'none' }],
    ['--env', { command: ['env'], args: 'none' }],
    ['--imports', { command: ['imports'], args: 'none' }],
    ['--add-url', { command: ['config', '--add-url'], value: true, args: 'none' }],
    ['--userpass', { command: ['config', '--userpass'], args: 'none' }],
    // `--config` without a value: show the configuration (with one: the file to read; see below).
    ['--config', { command: ['config'], args: 'none' }],
  ]);

const INSTALL = { command: ['install'], args: 'many' } as const;

export interface EnstallerArgvOptions {
  /** Whether a path names an existing file (for `--config FILE`). */
  readonly isFile: (path: string) => boolean;
}

export interface RewrittenArgv {
  readonly argv: readonly string[];
  /**
   * Written in Enstaller's way (an action flag, or bare names): the options the chosen command does
   * not take (`enpkg -l -n`) are dropped, as Enstaller ignored them.
   */
  readonly enstaller: boolean;
}

const isOption = (a: string): boolean => a.startsWith('-') && a !== '-';

/**
 * Whether `--config` takes the next argument as its file: it is not an option or a subcommand, and it
 * names an existing file or looks like a path (a `/`, or a YAML or rc file name).
 */
function configTakesValue(next: string | undefined, opts: EnstallerArgvOptions): boolean {
  if (next === undefined || isOption(next) || SUBCOMMANDS.has(next)) return false;
  return opts.isFile(next) || /[/\\]|\.ya?ml$|rc$/i.test(next);
}

/** The option token at i and how many tokens it spans (1, or 2 with its value). */
function optionSpan(argv: readonly string[], i: number, opts: EnstallerArgvOptions): number {
  const a = argv[i]!;
  if (a.includes('=')) return 1;
  if (VALUE_OPTIONS.has(a)) return 2;
  if (a === '--config') return configTakesValue(argv[i + 1], opts) ? 2 : 1;
  if (ACTIONS.get(a)?.value) return 2;
  return 1;
}

/**
 * `NAME VERSION` pairs as one requirement (`numpy 1.8.0`), as Enstaller joined them: an argument that
 * starts with a digit belongs to the name before it.
 */
export function joinNameVersionPairs(args: readonly string[]): string[] {
  const out: string[] = [];
  for (const a of args) {
    const last = out.at(-1);
    if (/^\d/.test(a) && last !== undefined && !/\s/.test(last) && !/^\d/.test(last)) out[out.length - 1] = `${last} ${a}`;
    else out.push(a);
  }
  return out;
}

function usage(message: string, hint = 'run "enpkg --help" for usage'): PkgError {
  return new PkgError(ErrorCodes.USAGE, message, { hint });
}

export function rewriteEnstallerArgv(argv: readonly string[], opts: EnstallerArgvOptions): RewrittenArgv {
  // Where the first positional argument is, and whether an Enstaller action comes before it.
  let first = -1;
  let actionBefore = false;
  for (let i = 0; i < argv.length; ) {
    const a = argv[i]!;
    if (a === '--') break;
    if (!isOption(a)) {
      first = i;
      break;
    }
    const span = optionSpan(argv, i, opts);
    if (ACTIONS.has(a) && !(a === '--config' && span === 2)) actionBefore = true;
    i += span;
  }
  if (first !== -1 && !actionBefore && SUBCOMMANDS.has(argv[first]!)) {
    if (first === 0) return { argv, enstaller: false };
    return { argv: [argv[first]!, ...argv.slice(0, first), ...argv.slice(first + 1)], enstaller: false };
  }
  // Options only (`enpkg --help`, `enpkg -V`, `enpkg --prefix P`): the program's own handling.
  if (first === -1 && !actionBefore) return { argv, enstaller: false };

  let action: { flag: string; spec: typeof INSTALL | NonNullable<ReturnType<typeof ACTIONS.get>>; value?: string } | null = null;
  const options: string[] = [];
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; ) {
    const a = argv[i]!;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!isOption(a)) {
      positionals.push(a);
      i++;
      continue;
    }
    const span = optionSpan(argv, i, opts);
    const spec = ACTIONS.get(a);
    if (spec && !(a === '--config' && span === 2)) {
      if (action && action.flag !== a) throw usage(`give one action, not both ${action.flag} and ${a}`);
      if (spec.value && argv[i + 1] === undefined) throw usage(`${a} needs a value`);
      action = { flag: a, spec, ...(spec.value ? { value: argv[i + 1]! } : {}) };
    } else options.push(...argv.slice(i, i + span));
    i += span;
  }
  const chosen = action ?? { flag: 'install', spec: INSTALL };
  const args = chosen.spec.args === 'many' ? joinNameVersionPairs(positionals) : positionals;
  if (chosen.spec.args === 'none' && args.length > 0) {
    throw usage(`${chosen.flag} takes no other arguments, got ${JSON.stringify(args.join(' '))}`);
  }
  if (chosen.spec.args === 'one' && args.length > 1) {
    throw usage(`${chosen.flag} takes one argument, got ${args.length}: ${JSON.stringify(args.join(' '))}`, 'quote a pattern with spaces');
  }
  return {
    argv: [
      ...chosen.spec.command,
      ...(chosen.value !== undefined ? [chosen.value] : []),
      ...options,
      ...(args.length ? ['--', ...args] : []),
    ],
    enstaller: true,
  };
}

/**
 * For argv written in Enstaller's way: leave out the flags the chosen command does not take (Enstaller
 * ignored `-n` with `-l`); values of options and the arguments after `--` are kept as they are.
 */
export function dropOptionsNotTaken(argv: readonly string[], takes: (flag: string) => boolean, opts: EnstallerArgvOptions): string[] {
  const end = argv.indexOf('--');
  const head = end === -1 ? argv : argv.slice(0, end);
  const out: string[] = [];
  for (let i = 0; i < head.length; ) {
    const a = head[i]!;
    const span = i === 0 || !isOption(a) ? 1 : optionSpan(head, i, opts);
    const flag = a.split('=')[0]!;
    if (i === 0 || !isOption(a) || span === 2 || a.includes('=') || takes(flag) || flag === '-h' || flag === '--help') {
      out.push(...head.slice(i, i + span));
    }
    i += span;
  }
  return end === -1 ? out : [...out, ...argv.slice(end)];
}
