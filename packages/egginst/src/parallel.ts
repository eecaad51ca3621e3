/**
 * Work shared between this thread and worker threads (worker.ts), the one way egginst does it: the
 * work is a list of items cut into chunks (`chunks` holds each chunk's first item, then the count),
 * and every thread takes the next chunk nobody has taken - an atomic counter in shared memory -
 * until none is left, so that no thread waits for another's share. Extraction waits for its
 * workers on the event loop (extract-all.ts); the many small filesystem operations of staging from
 * the store and of the cleanup wait on shared memory, synchronously (tree-ops.ts). Errors cross
 * from a worker as plain data and are thrown here as they would have been in this thread.
 */
import { availableParallelism } from 'node:os';
import { type ErrorCode, ErrorCodes, PkgError } from './errors.js';

export interface Shared {
  /** next[0]: the next chunk nobody has taken. */
  next: Int32Array;
  chunks: number[];
}

/** `EGGINST_THREADS` if set (1 = no worker threads), else the cores available, at most 4. */
export function threadCount(): number {
  const n = Number(process.env.EGGINST_THREADS);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 16) : Math.min(availableParallelism(), 4);
}

/** Shared state for `chunks` (the first item of each chunk, then the item count). */
export function sharing(chunks: number[]): Shared {
  return { next: new Int32Array(new SharedArrayBuffer(4)), chunks };
}

/** Every thread's next range of items [from, to), or null when none is left; without `shared`, all of `count` at once. */
export function claimer(count: number, shared?: Shared): () => [number, number] | null {
  let whole = false;
  return () => {
    if (!shared) {
      if (whole) return null;
      whole = true;
      return [0, count];
    }
    const c = Atomics.add(shared.next, 0, 1);
    return c < shared.chunks.length - 1 ? [shared.chunks[c]!, shared.chunks[c + 1]!] : null;
  };
}

/** After a failure: the other threads find no chunk left at their next claim. */
export function stopSharing(shared: Shared): void {
  Atomics.store(shared.next, 0, shared.chunks.length);
}

/** An error as it crosses from a worker thread. */
export interface ErrorReply {
  code: ErrorCode;
  message: string;
  hint?: string;
  details?: Record<string, unknown>;
  /** A system error (ENOSPC, say) keeps its errno, so that it is told the same way as in the main thread. */
  errno?: string;
}

export function errorReply(e: unknown): ErrorReply {
  const err = e instanceof PkgError ? e : new PkgError(ErrorCodes.IO, (e as Error)?.message ?? String(e));
  const reply: ErrorReply = { code: err.code, message: err.message, details: err.details };
  if (err.hint) reply.hint = err.hint;
  const errno = (e as NodeJS.ErrnoException)?.code;
  if (!(e instanceof PkgError) && typeof errno === 'string') reply.errno = errno;
  return reply;
}

export function errorFrom(r: ErrorReply): Error {
  if (r.errno) return Object.assign(new Error(r.message), { code: r.errno });
  return new PkgError(r.code, r.message, { ...(r.hint ? { hint: r.hint } : {}), ...(r.details ? { details: r.details } : {}) });
}
