/**
 * How the egginst CLI shows things: a progress bar on a TTY, plain lines otherwise, JSON with --json.
 * Messages and data hold raw strings; this is where they are escaped: every line for a terminal goes
 * through escapeForTerminal, every JSON document through jsonForTerminal.
 */
import cliProgress from 'cli-progress';
import { ErrorCodes, PkgError } from './errors.js';
import { escapeForTerminal, escapeLinesForTerminal, jsonForTerminal } from './escape.js';
import { OUTPUT_HEADING } from './scripts.js';
import type { Change, InstalledPackage, ProgressEvent, Reporter, Warning } from './types.js';

export interface Renderer {
  reporter: Reporter;
  changes(prefix: string, changes: Change[], warnings: Warning[]): void;
  list(prefix: string, pkgs: InstalledPackage[]): void;
  recovered(outcome: string): void;
  error(e: PkgError): void;
  /** Something that is not a PkgError reached the top: a bug. The stack only with `debug`. */
  internalError(e: unknown, debug: boolean): void;
  done(): void;
}

export interface RenderOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  tty: boolean;
}

const err = (s: string): void => void process.stderr.write(`${escapeForTerminal(s)}\n`);
/** For text of several lines (a stack trace). */
const errLines = (s: string): void => void process.stderr.write(`${escapeLinesForTerminal(s)}\n`);

/**
 * An error message for a terminal: one line, except the tail of a script's output that a script
 * error ends with, which keeps its lines (a newline anywhere else, in a name say, is escaped).
 */
function messageText(message: string): string {
  const i = message.indexOf(OUTPUT_HEADING);
  if (i === -1) return escapeForTerminal(message);
  return `${escapeForTerminal(message.slice(0, i))}${OUTPUT_HEADING}${escapeLinesForTerminal(message.slice(i + OUTPUT_HEADING.length))}`;
}
const out = (s: string): void => void process.stdout.write(`${escapeForTerminal(s)}\n`);
const outJson = (v: unknown): void => void process.stdout.write(`${jsonForTerminal(v)}\n`);

/** An error for --json: its own fields, and those of the error it was caused by when that is a PkgError too. */
function errorJson(e: PkgError): Record<string, unknown> {
  return e.cause instanceof PkgError ? { ...e.toJSON(), cause: errorJson(e.cause) } : e.toJSON();
}

export function fullVersion(v: { version: string; build: number }): string {
  return `${v.version}-${v.build}`;
}

export function describeChange(c: Change): string {
  if (c.kind === 'update') return `updated ${c.name} ${fullVersion(c.from)} -> ${fullVersion(c.to)}`;
  return `${c.kind === 'install' ? 'installed' : 'removed'} ${c.name} ${fullVersion(c)}`;
}

export function createRenderer(o: RenderOptions): Renderer {
  let bar: cliProgress.SingleBar | undefined;
  let barSubject = '';
  const lastPhase = new Set<string>();
  const stopBar = (): void => {
    bar?.stop();
    bar = undefined;
  };
  const progress = (e: ProgressEvent): void => {
    if (o.quiet || o.json) return;
    if (o.tty && e.phase === 'stage' && e.unit === 'bytes') {
      if (!bar || barSubject !== e.subject) {
        stopBar();
        barSubject = e.subject;
        bar = new cliProgress.SingleBar(
          {
            format: `{subject} [{bar}] {percentage}% | {value}/{total} MiB`,
            stream: process.stderr,
            hideCursor: true,
            clearOnComplete: false,
            fps: 10,
          },
          cliProgress.Presets.shades_classic,
        );
        bar.start(Math.max(1, Math.round(e.total / 2 ** 20)), 0, { subject: escapeForTerminal(e.subject) });
      }
      bar.update(Math.round(e.done / 2 ** 20));
      return;
    }
    const line =
      e.phase === 'stage'
        ? `staging ${e.subject}`
        : e.phase === 'apply'
          ? 'moving files into place'
          : e.phase === 'scripts'
            ? `running ${e.subject} script`
            : e.phase === 'recover'
              ? `recovering unfinished transaction ${e.subject}`
              : null;
    if (line && !lastPhase.has(line)) {
      lastPhase.add(line);
      stopBar();
      err(line);
    }
  };
  const reporter: Reporter = {
    report(e) {
      switch (e.type) {
        case 'install':
          progress(e.progress);
          return;
        case 'warning':
          if (o.json) return;
          stopBar();
          err(`egginst: warning: ${e.warning.message}`);
          return;
        case 'info':
          if (o.verbose && !o.json) err(e.message);
          return;
        case 'lock-wait':
          if (!o.quiet && !o.json) err(`waiting for ${e.holder} to release ${e.prefix}`);
          return;
        case 'script-output':
          if (o.verbose && !o.json) err(`  ${e.subject}| ${e.line}`);
          return;
      }
    },
  };
  return {
    reporter,
    changes(prefix, changes, warnings) {
      stopBar();
      if (o.json) {
        outJson({ ok: true, prefix, changes, warnings });
        return;
      }
      if (!o.quiet) for (const c of changes) out(describeChange(c));
    },
    list(prefix, pkgs) {
      if (o.json) {
        outJson({ ok: true, prefix, packages: pkgs });
        return;
      }
      if (pkgs.length === 0) {
        if (!o.quiet) err(`no packages installed in ${prefix}`);
        return;
      }
      const names = pkgs.map((p) => escapeForTerminal(p.name));
      const w = Math.max(4, ...names.map((n) => n.length));
      for (const [i, p] of pkgs.entries()) out(`${names[i]!.padEnd(w)}  ${fullVersion(p)}`);
    },
    recovered(outcome) {
      if (outcome === 'discarded' || o.json) return;
      err(`egginst: an unfinished transaction from an earlier run was ${outcome === 'completed' ? 'completed' : 'rolled back'}`);
    },
    error(e) {
      stopBar();
      if (o.json) outJson({ ok: false, error: errorJson(e) });
      process.stderr.write(`egginst: error: ${messageText(e.message)}\n`);
      for (let c = e.cause; c instanceof PkgError; c = c.cause) process.stderr.write(`  because: ${messageText(c.message)}\n`);
      if (e.hint) err(`  hint: ${e.hint}`);
    },
    internalError(e, debug) {
      stopBar();
      const message = e instanceof Error ? e.message : String(e);
      if (o.json) outJson({ ok: false, error: { code: ErrorCodes.INTERNAL, message } });
      err(`egginst: internal error: ${message} (this is a bug in egginst; please report it with the command you ran)`);
      if (debug && e instanceof Error && e.stack) errLines(e.stack);
      else err('  run it again with -v (or EGGINST_DEBUG=1) to see where it happened');
    },
    done: stopBar,
  };
}
