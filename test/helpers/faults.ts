/**
 * Failing filesystem operations for the rollback tests (npm arborist's way): a TransactionFs that
 * passes every call to node:fs, except those a `Fault` answers with an error to throw.
 */
import fs from 'node:fs';
import type { TransactionFs } from 'egginst';

export type FsOp = keyof TransactionFs;

export const FS_OPS: readonly FsOp[] = [
  'closeSync',
  'fsyncSync',
  'lstatSync',
  'mkdirSync',
  'openSync',
  'readFileSync',
  'readdirSync',
  'renameSync',
  'rmSync',
  'rmdirSync',
  'statfsSync',
  'symlinkSync',
  'unlinkSync',
  'writeFileSync',
];

export interface FsCall {
  op: FsOp;
  /** This is the n-th call of `op` (from 1). */
  n: number;
  args: unknown[];
}

/** The error a call is to fail with, or undefined to let it through. */
export type Fault = (call: FsCall) => Error | undefined;

export interface FaultyFs extends TransactionFs {
  /** Every call so far, in order. */
  readonly calls: FsCall[];
  /** The calls that were made to fail, with the error each threw. */
  readonly failed: (FsCall & { error: Error })[];
}

export function faultyFs(fault: Fault = () => undefined): FaultyFs {
  const counts = new Map<FsOp, number>();
  const calls: FsCall[] = [];
  const failed: (FsCall & { error: Error })[] = [];
  const out: Record<string, unknown> = { calls, failed };
  for (const op of FS_OPS) {
    const real = fs[op] as (...args: unknown[]) => unknown;
    out[op] = (...args: unknown[]): unknown => {
      const n = (counts.get(op) ?? 0) + 1;
      counts.set(op, n);
      const call = { op, n, args };
      calls.push(call);
      const e = fault(call);
      if (e) {
        failed.push({ ...call, error: e });
        throw e;
      }
      return real(...args);
    };
  }
  return out as unknown as FaultyFs;
}

/** An error as node:fs throws it (code, errno, syscall, path). */
export function errno(code: 'EIO' | 'ENOSPC' | 'EACCES', call: FsCall): NodeJS.ErrnoException {
  const what = { EIO: 'i/o error', ENOSPC: 'no space left on device', EACCES: 'permission denied' }[code];
  const syscall = call.op.replace(/Sync$/, '');
  const path = typeof call.args[0] === 'string' ? call.args[0] : undefined;
  const e: NodeJS.ErrnoException = new Error(`${code}: ${what} (injected), ${syscall}${path ? ` '${path}'` : ''}`);
  e.code = code;
  e.errno = { EIO: -5, ENOSPC: -28, EACCES: -13 }[code];
  e.syscall = syscall;
  if (path) e.path = path;
  return e;
}

/** Fail the k-th call of `op` with `code`. */
export function nth(op: FsOp, k: number, code: Parameters<typeof errno>[0] = 'EIO'): Fault {
  return (c) => (c.op === op && c.n === k ? errno(code, c) : undefined);
}

/** Fail the first call that `match` picks (and no later one) with `code`. */
export function once(match: (c: FsCall) => boolean, code: Parameters<typeof errno>[0] = 'EIO'): Fault {
  let done = false;
  return (c) => {
    if (done || !match(c)) return undefined;
    done = true;
    return errno(code, c);
  };
}

/** Every fault in turn: the first to answer with an error wins. */
export function all(...faults: Fault[]): Fault {
  return (c) => {
    for (const f of faults) {
      const e = f(c);
      if (e) return e;
    }
    return undefined;
  };
}

/** The error and its causes, outermost first. */
export function causes(e: unknown): unknown[] {
  const out: unknown[] = [];
  for (let c = e; c !== undefined && out.length < 10; c = (c as { cause?: unknown }).cause) out.push(c);
  return out;
}
