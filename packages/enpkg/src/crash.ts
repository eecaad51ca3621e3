/**
 * Named crash points of enpkg's own steps (egginst has its own for transactions): with
 * `ENPKG_CRASH_AT=<point>[:<n>]` the process kills itself with SIGKILL the n-th time (default: the
 * first) it reaches that point. The crash tests walk every point. Unset, this costs a comparison.
 */
import { crashPoints } from 'egginst/core';

export const SELF_CRASH_POINTS = [
  'self-fetched', // the new egg is in the cache, verified; nothing else done
  'self-unpacking', // after each file unpacked into the .partial directory (use :n)
  'self-unpacked', // the .partial directory is complete, not yet renamed into place
  'self-placed', // the new version's directory is in place, not smoke-run
  'self-smoked', // the smoke run passed, the pointer not written
  'self-pointer-written', // the new pointer is written beside the old one, not renamed over it
  'self-switched', // the pointer names the new version; history not recorded
  'self-recorded', // the history row is committed; launchers and cleanup not done
  'self-cleaning', // after each old version removed (use :n)
] as const;

export type SelfCrashPoint = (typeof SELF_CRASH_POINTS)[number];

export const crashPoint = crashPoints<SelfCrashPoint>('ENPKG_CRASH_AT');
