/**
 * Loaded into an egginst process by the CLI tests (`node --import <this> egginst.js ...`): makes the
 * node:fs calls that `EGGINST_TEST_FAULTS` names fail, so that a real CLI run walks a rollback, runs
 * out of space or hits a bug. The variable is a JSON list of `FaultSpec`s.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';

export interface FaultSpec {
  op: 'renameSync' | 'writeFileSync' | 'writeSync' | 'rmSync' | 'rmdirSync' | 'mkdirSync' | 'openSync';
  /** Only calls whose first argument is a path ending with this (or, with `fd`, a file descriptor). */
  suffix?: string;
  fd?: boolean;
  /** Which of the matching calls fail (from 1; default the first). */
  nth?: readonly number[];
  /** An errno code, or BUG for a TypeError (what a bug in egginst would throw). */
  code: 'EIO' | 'ENOSPC' | 'BUG';
}

export const FAULTS_VAR = 'EGGINST_TEST_FAULTS';

const specs = JSON.parse(process.env[FAULTS_VAR] ?? '[]') as FaultSpec[];
const table = fs as unknown as Record<string, (...args: unknown[]) => unknown>;
for (const spec of specs) {
  const real = table[spec.op]!;
  let seen = 0;
  table[spec.op] = (...args: unknown[]): unknown => {
    const first = args[0];
    const matches = spec.fd ? typeof first === 'number' : spec.suffix === undefined || String(first).endsWith(spec.suffix);
    if (matches && (spec.nth ?? [1]).includes(++seen)) {
      if (spec.code === 'BUG') throw new TypeError('simulated bug: cannot read properties of undefined');
      const e: NodeJS.ErrnoException = new Error(`${spec.code}: injected failure, ${spec.op.replace(/Sync$/, '')} '${String(first)}'`);
      e.code = spec.code;
      e.syscall = spec.op.replace(/Sync$/, '');
      throw e;
    }
    return real(...args);
  };
}
syncBuiltinESMExports();
