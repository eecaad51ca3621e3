/**
 * Running a piece of a test where permissions bite. Root ignores file modes, so as root the code runs
 * in a child process as `nobody` (uid 65534); otherwise in a child process as this user. The child
 * prints one JSON line: what it returned, or the error's code, message and hint.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { dirname } from 'node:path';

export interface ChildOutcome {
  readonly ok: boolean;
  readonly value?: unknown;
  readonly code?: string;
  readonly message?: string;
  readonly hint?: string;
}

/**
 * Run `body` (the body of an async function of `args`, ES module code with `await import(...)`) in
 * a child process without root's powers over file modes.
 */
export function runUnprivileged(body: string, args: readonly string[]): ChildOutcome {
  const script = `
const args = JSON.parse(process.argv[1]);
try {
  const value = await (async (args) => { ${body} })(args);
  process.stdout.write(JSON.stringify({ ok: true, value: value ?? null }));
} catch (e) {
  process.stdout.write(JSON.stringify({ ok: false, code: e?.code, message: String(e?.message ?? e), hint: e?.hint }));
}`;
  const root = process.getuid?.() === 0;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(args)], {
    encoding: 'utf8',
    timeout: 60_000,
    ...(root ? { uid: 65534, gid: 65534 } : {}),
  });
  if (r.status !== 0 || !r.stdout)
    throw new Error(`the child failed (status ${r.status}): ${r.stderr}${r.error ? ` ${r.error.message}` : ''}`);
  return JSON.parse(r.stdout) as ChildOutcome;
}

/** Let the unprivileged child reach `path`: every directory from `top` down to it searchable and readable. */
export function openTo(top: string, path: string): void {
  for (let d = path; d.startsWith(top); d = dirname(d)) {
    chmodSync(d, 0o755);
    if (d === top) break;
  }
}
