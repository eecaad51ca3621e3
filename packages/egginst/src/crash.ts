/**
 * Named crash points for the crash tests: with `EGGINST_CRASH_AT=<point>[:<n>]` the process kills
 * itself with SIGKILL the n-th time (default: first) it reaches that point. Unset, this costs a
 * property lookup.
 */
export const CRASH_POINTS = [
  'store-file', // after each file extracted into a new store entry (use :n)
  'store-verified', // a new store entry written and checked, not yet renamed into place
  'linked', // every file taken from the store linked (cloned, copied) into staging
  'relocated', // every archive file extracted to staging, object code and shebangs rewritten
  'staged', // every archive extracted to staging, nothing journaled
  'journaled', // journal written, no rename yet
  'apply', // after each rename of the apply phase (use :n)
  'applied', // every rename done, scripts not run
  'post-install', // after post-install scripts, before the commit mark
  'committed', // journal marked committed, cleanup not started
  'cleanup', // after each cleanup step (use :n)
  'undo', // after each undo step during rollback or recovery (use :n)
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/**
 * A crash-point function for a set of named points, armed by the environment variable `envVar`
 * (`<point>[:<n>]`). enpkg arms its own points the same way (ENPKG_CRASH_AT).
 */
export function crashPoints<P extends string>(envVar: string): (point: P) => void {
  const spec = process.env[envVar];
  if (!spec) return () => {};
  const [target, nth] = [spec.split(':')[0], Number(spec.split(':')[1] ?? '1')];
  let hits = 0;
  return (point) => {
    if (target !== point) return;
    if (++hits === nth) process.kill(process.pid, 'SIGKILL');
  };
}

export const crashPoint = crashPoints<CrashPoint>('EGGINST_CRASH_AT');
