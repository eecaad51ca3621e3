/**
 * How the egginst CLI shows things: a progress bar on a TTY, plain lines otherwise, JSON with --json.
 */
import cliProgress from 'cli-progress';
import type { PkgError } from './errors.js';
import type { Change, InstalledPackage, ProgressEvent, Reporter, Warning } from './types.js';

export interface Renderer {
  reporter: Reporter;
  changes(prefix: string, changes: Change[], warnings: Warning[]): void;
  list(prefix: string, pkgs: InstalledPackage[]): void;
  recovered(outcome: string): void;
  error(e: PkgError): void;
  done(): void;
}

export interface RenderOptions {
  json: boolean;
  quiet: boolean;
  verbose: boolean;
  tty: boolean;
}

const err = (s: string): void => void process.stderr.write(`${s}\n`);
const out = (s: string): void => void process.stdout.write(`${s}\n`);

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
        bar.start(Math.max(1, Math.round(e.total / 2 ** 20)), 0, { subject: e.subject });
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
    progress,
    warn: (w) => {
      if (o.json) return;
      stopBar();
      err(`egginst: warning: ${w.message}`);
    },
    info: (m) => {
      if (o.verbose && !o.json) err(m);
    },
    scriptOutput: (subject, line) => {
      if (o.verbose && !o.json) err(`  ${subject}| ${line}`);
    },
  };
  return {
    reporter,
    changes(prefix, changes, warnings) {
      stopBar();
      if (o.json) {
        out(JSON.stringify({ ok: true, prefix, changes, warnings }));
        return;
      }
      if (!o.quiet) for (const c of changes) out(describeChange(c));
    },
    list(prefix, pkgs) {
      if (o.json) {
        out(JSON.stringify({ ok: true, prefix, packages: pkgs }));
        return;
      }
      if (pkgs.length === 0) {
        if (!o.quiet) err(`no packages installed in ${prefix}`);
        return;
      }
      const w = Math.max(4, ...pkgs.map((p) => p.name.length));
      for (const p of pkgs) out(`${p.name.padEnd(w)}  ${fullVersion(p)}`);
    },
    recovered(outcome) {
      if (outcome === 'discarded' || o.json) return;
      err(`egginst: an unfinished transaction from an earlier run was ${outcome === 'completed' ? 'completed' : 'rolled back'}`);
    },
    error(e) {
      stopBar();
      if (o.json) out(JSON.stringify({ ok: false, error: e.toJSON() }));
      err(`egginst: error: ${e.message}`);
      if (e.hint) err(`  hint: ${e.hint}`);
    },
    done: stopBar,
  };
}
