/**
 * Run the CLIs as a user would: a child process with an explicit, minimal environment.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { egginstBin, repoRoot } from './paths.js';

export interface RunOptions {
  /** Added to (or, with `undefined`, removed from) the child's environment. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Written to the child's stdin; without it stdin is /dev/null. */
  input?: string;
  /** The child is killed (SIGKILL) after this long; default 120 s. */
  timeoutMs?: number;
  /** Run the child as this user and group (tests run as root, which ignores file modes). */
  uid?: number;
  gid?: number;
  /** Called with the child once it is spawned (to signal it, say). */
  onSpawn?: (child: import('node:child_process').ChildProcess) => void;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON, when it parses. */
  json: unknown;
}

/** Only what a CLI needs, so that nothing from the test runner's environment leaks in. */
function childEnv(extra: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: Record<string, string | undefined> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/nonexistent',
    LANG: 'C.UTF-8',
    NODE_V8_COVERAGE: process.env.NODE_V8_COVERAGE,
    ...extra,
  };
  return Object.fromEntries(Object.entries(env).filter((kv): kv is [string, string] => kv[1] !== undefined));
}

function parseJson(text: string): unknown {
  if (!text.trim()) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** `node <script> ...args`. */
export function runNode(script: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runProgram(process.execPath, [script, ...args], opts);
}

/** Any executable (such as a launcher a test bootstrapped), with the same minimal environment. */
export function runProgram(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, [...args], {
      cwd: opts.cwd,
      env: childEnv(opts.env ?? {}),
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
      ...(opts.gid !== undefined ? { gid: opts.gid } : {}),
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout?.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    if (opts.input !== undefined) child.stdin?.end(opts.input);
    opts.onSpawn?.(child);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs ?? 120_000);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, timedOut, stdout, stderr, json: parseJson(stdout) });
    });
  });
}

/** `egginst ...args` (packages/egginst/bin/egginst.js). */
export function runEgginst(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runNode(egginstBin, args, opts);
}

export const enpkgBin = join(repoRoot, 'packages', 'enpkg', 'bin', 'enpkg.js');

/** `enpkg ...args` (packages/enpkg/bin/enpkg.js). */
export function runEnpkg(args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return runNode(enpkgBin, args, opts);
}
