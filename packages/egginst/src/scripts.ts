/**
 * Running an egg's post-install and pre-uninstall scripts: an explicit environment (nothing else from
 * the caller), stdin closed, a process group of its own, and a timeout that kills the whole group.
 * The tail of the output is kept for the error.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ErrorCodes, PkgError } from './errors.js';
import type { ScriptRef } from './layout.js';

export interface ScriptRun {
  script: ScriptRef;
  prefix: string;
  /** The package's meta dir (absolute): the script's working directory. */
  cwd: string;
  python: () => string;
  pkg: { name: string; version: string; build: number };
  action: 'install' | 'remove';
  timeoutSeconds: number;
  onLine?: (line: string) => void;
  /** Aborting kills the script's process group at once; the run then fails as interrupted. */
  signal?: AbortSignal;
}

const TAIL = 4096;

/** Between a script error's own message and the tail of the script's output (which the CLI shows as lines). */
export const OUTPUT_HEADING = '\n--- last output ---\n';

export function scriptEnv(run: Pick<ScriptRun, 'prefix' | 'pkg' | 'action'>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PREFIX: run.prefix,
    PKG_NAME: run.pkg.name,
    PKG_VERSION: run.pkg.version,
    PKG_BUILDNUM: String(run.pkg.build),
    PKG_ACTION: run.action,
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
  };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  if (process.env.LANG !== undefined) env.LANG = process.env.LANG;
  return env;
}

export async function runScript(run: ScriptRun): Promise<void> {
  const file = join(run.prefix, run.script.path);
  const [cmd, args] =
    run.script.kind === 'python' ? [run.python(), ['-E', file, '--prefix', run.prefix]] : [file, ['--prefix', run.prefix]];
  const label = `${run.action === 'install' ? 'post-install' : 'pre-uninstall'} script ${run.script.path} of ${run.pkg.name}`;
  const child = spawn(cmd, args, { cwd: run.cwd, env: scriptEnv(run), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let tail = '';
  let partial = '';
  const take = (d: Buffer): void => {
    const s = d.toString('utf8');
    tail = (tail + s).slice(-TAIL);
    if (run.onLine) {
      const lines = (partial + s).split('\n');
      partial = lines.pop() ?? '';
      for (const l of lines) run.onLine(l);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  let timedOut = false;
  const killGroup = (): void => {
    try {
      if (child.pid) process.kill(-child.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    killGroup();
  }, run.timeoutSeconds * 1000);
  run.signal?.addEventListener('abort', killGroup, { once: true });
  const closed = new Promise<void>((resolve) => child.on('close', () => resolve()));
  const result = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  clearTimeout(timer);
  run.signal?.removeEventListener('abort', killGroup);
  // Whatever the script left running in its group goes too (it may hold our pipes open).
  killGroup();
  await Promise.race([closed, new Promise((r) => setTimeout(r, 2000))]);
  if (partial && run.onLine) run.onLine(partial);
  const details = { script: run.script.path, package: run.pkg.name, output: tail };
  const shown = tail.trim() ? `${OUTPUT_HEADING}${tail.trimEnd()}` : '';
  if (run.signal?.aborted) {
    throw new PkgError(ErrorCodes.INTERRUPTED, `interrupted while the ${label} ran; every change was rolled back`, {
      hint: 'run the command again',
      details,
    });
  }
  if (timedOut) {
    throw new PkgError(ErrorCodes.SCRIPT_TIMEOUT, `the ${label} did not finish within ${run.timeoutSeconds} s and was killed${shown}`, {
      hint: 'raise --script-timeout, or skip scripts with --no-scripts',
      details,
    });
  }
  if (result.error) {
    throw new PkgError(ErrorCodes.SCRIPT_FAILED, `the ${label} could not be started: ${result.error.message}`, {
      hint: run.script.kind === 'python' ? 'pass --python PATH, or skip scripts with --no-scripts' : 'skip scripts with --no-scripts',
      cause: result.error,
      details,
    });
  }
  if (result.code !== 0) {
    const how = result.signal ? `was killed by ${result.signal}` : `exited with status ${result.code}`;
    throw new PkgError(ErrorCodes.SCRIPT_FAILED, `the ${label} ${how}${shown}`, {
      hint: 'fix the script or skip scripts with --no-scripts',
      details,
    });
  }
}
