/**
 * How enpkg's command line shows things, and the only place that does: terminal text (every line
 * escaped on its way out, so no string from an index, an archive, a configuration file or a lock
 * holder can drive the terminal), JSON (raw values, JSON-escaped), action text, the progress
 * display, and errors.
 */
import { escapeLinesForTerminal, jsonForTerminal, type PkgError } from 'egginst/core';
import type { FetchProgress } from '../fetch/types.js';
import type { Reporter } from '../report.js';
import { planRepositories } from '../plan.js';
import type { Action, ChangePlan, PackageInfo, RemoveReason } from '../types.js';
import { compareVersions, packageLabel, versionOf } from '../version.js';

export interface CliIO {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Whether stderr is a terminal (progress bars) and whether a question can be asked. */
  readonly interactive?: boolean;
}

/** Output flags every command has. */
export interface OutputFlags {
  readonly json?: boolean;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
}

/** Terminal text: every control character (C0 but newline and tab, DEL, C1, bidi) escaped (egginst's rule). */
export const terminalText = escapeLinesForTerminal;

/** JSON for stdout: raw values, with what a terminal would act on written `\uXXXX` (egginst's rule). */
export function toJson(value: unknown): string {
  return `${jsonForTerminal(value, 2)}\n`;
}

/** Where a command writes: text is escaped here, so callers pass raw strings. */
export interface Output {
  /** A result, to stdout. */
  out(text: string): void;
  /** Progress, warnings and errors, to stderr. */
  err(text: string): void;
  json(value: unknown): void;
}

export function output(io: CliIO): Output {
  return {
    out: (t) => io.stdout(terminalText(t)),
    err: (t) => io.stderr(terminalText(t)),
    json: (v) => io.stdout(toJson(v)),
  };
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

export function reasonText(r: RemoveReason): string {
  switch (r.kind) {
    case 'requested':
      return r.breaks?.length
        ? `requested; leaves ${r.breaks.join(', ')} broken, which need${r.breaks.length === 1 ? 's' : ''} it`
        : 'requested';
    case 'dependent':
      return `it depends on ${r.on}, which is removed`;
    case 'unneeded':
      return 'no longer needed';
    case 'conflict':
      return `no version of it can stay: ${r.why}`;
  }
}

const ver = (p: { version: string; build: number }) => versionOf(p.version, p.build);

/** One action as a plan line: `  install   app 1.0.0-1`, `  update    app 1.0.0-1 -> 1.1.0-1`, ... */
export function actionLine(a: Action, withRepository = false): string {
  const verb = (w: string): string => `  ${w.padEnd(10)}`;
  const from = (p: PackageInfo): string => (withRepository && p.repository !== undefined ? `  (from ${p.repository})` : '');
  switch (a.kind) {
    case 'install':
      return `${verb('install')}${packageLabel(a.package)}${from(a.package)}`;
    case 'update': {
      const order = compareVersions(ver(a.to), ver(a.from));
      const word = order > 0 ? 'update' : order < 0 ? 'downgrade' : 'reinstall';
      const line =
        order === 0 ? `${verb(word)}${packageLabel(a.from)}` : `${verb(word)}${packageLabel(a.from)} -> ${a.to.version}-${a.to.build}`;
      return line + from(a.to);
    }
    case 'remove':
      return `${verb('remove')}${packageLabel(a.package)} (${reasonText(a.reason)})`;
  }
}

/** The plan, one action a line; each install and update names its repository when they come from several. */
export function planText(t: ChangePlan): string {
  const several = planRepositories(t).length > 1;
  return `${t.actions.map((a) => actionLine(a, several)).join('\n')}\n${heldBackText(t)}`;
}

/** The update targets left behind their newest version, one line each (empty when there are none). */
export function heldBackText(t: ChangePlan): string {
  if (!t.heldBack?.length) return '';
  return `Not at the newest version:\n${t.heldBack.map((h) => `  ${h.line}\n`).join('')}`;
}

/** `enpkg: error: <message>` and the hint; an internal error asks to be reported. */
export function errorText(e: PkgError, verbose = false): string {
  const full = e.details.fullMessage;
  const message = verbose && typeof full === 'string' ? full : e.message;
  return `enpkg: error: ${message}\n${e.hint ? `  hint: ${e.hint}\n` : ''}`;
}

/** The one progress display of a run: a bar on a terminal, one summary line otherwise. */
class DownloadDisplay {
  private last: FetchProgress | null = null;
  private bar: import('cli-progress').SingleBar | null = null;

  constructor(
    private readonly o: Output,
    private readonly tty: boolean,
    private readonly cliProgress: typeof import('cli-progress') | null,
  ) {}

  update(e: FetchProgress): void {
    this.last = e;
    if (!this.tty || !this.cliProgress) return;
    const o = e.overall;
    const payload = { eggs: `${o.eggsDone}/${o.eggsTotal}`, mib: (o.bytesDone / 2 ** 20).toFixed(1), active: o.active };
    if (!this.bar) {
      this.bar = new this.cliProgress.SingleBar(
        {
          format: 'fetching [{bar}] {percentage}% | {eggs} eggs | {mib} MiB | {active} at once',
          stream: process.stderr,
          hideCursor: true,
          fps: 10,
        },
        this.cliProgress.Presets.shades_classic,
      );
      this.bar.start(Math.max(1, o.bytesTotal), o.bytesDone, payload);
    } else {
      this.bar.setTotal(Math.max(1, o.bytesTotal));
      this.bar.update(o.bytesDone, payload);
    }
  }

  done(): void {
    if (this.bar) {
      this.bar.stop();
      this.bar = null;
    } else if (this.last) {
      const o = this.last.overall;
      const mib = (o.bytesDone / 2 ** 20).toFixed(1);
      this.o.err(`fetched ${o.eggsDone - o.cached} of ${o.eggsTotal} eggs (${mib} MiB), ${o.cached} from the cache\n`);
    }
    this.last = null;
  }
}

/**
 * The reporter of a command: warnings to stderr (kept out of the way with --json, whose result
 * carries them), detail with -v, progress unless -q or --json.
 */
export async function cliReporter(io: CliIO, flags: OutputFlags): Promise<Reporter> {
  const o = output(io);
  const quiet = flags.quiet === true || flags.json === true;
  const tty = io.interactive === true;
  const cliProgress = tty && !quiet ? (await import('cli-progress')).default : null;
  const downloads = new DownloadDisplay(o, tty, cliProgress);
  const said = new Set<string>();
  const once = (line: string): void => {
    if (said.has(line)) return;
    said.add(line);
    o.err(`${line}\n`);
  };
  return {
    report(e) {
      switch (e.type) {
        case 'warning':
          if (!flags.json) o.err(`enpkg: warning: ${e.warning.message}\n`);
          return;
        case 'info':
          if (flags.verbose && !flags.json) o.err(`enpkg: ${e.message}\n`);
          return;
        case 'lock-wait':
          if (!quiet) o.err(`waiting for ${e.holder} to finish with ${e.prefix}\n`);
          return;
        case 'indexes':
          if (flags.verbose && !quiet && e.phase === 'start') o.err(`reading ${e.repositories} repository index(es)\n`);
          return;
        case 'download':
          if (!quiet) downloads.update(e.progress);
          return;
        case 'download-done':
          if (!quiet) downloads.done();
          return;
        case 'install': {
          if (quiet) return;
          const p = e.progress;
          if (p.phase === 'stage') once(`staging ${p.subject}`);
          else if (p.phase === 'apply') once('moving files into place');
          else if (p.phase === 'scripts') once(`running ${p.subject} script`);
          else if (p.phase === 'recover') once(`recovering: ${p.subject}`);
          return;
        }
        case 'script-output':
          if (flags.verbose && !flags.json) o.err(`  ${e.subject}: ${e.line}\n`);
          return;
        case 'publish':
          return;
      }
    },
  };
}
