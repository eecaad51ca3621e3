/**
 * Inflating many archive members at once: small jobs in this thread; large ones cut into chunks of
 * contiguous members (so each thread still reads an archive front to back), which this thread and
 * the worker threads take one at a time until none is left: no thread waits for another's share.
 * Used by staging (stage.ts) and by filling the package store (store.ts).
 */
import { Worker } from 'node:worker_threads';
import { ErrorCodes, PkgError } from './errors.js';
import type { ArchiveEntry } from './archive.js';
import type { DataRef, Extracted } from './extract.js';
import { extractTasks, type Job, type Task, type WorkerReply } from './extract-worker.js';
import { errorFrom, sharing, stopSharing, threadCount } from './parallel.js';

/** Below this much work, starting threads costs more than it saves. */
const PARALLEL_MIN_FILES = 2000;
const PARALLEL_MIN_BYTES = 256 << 20;
/** A chunk: this many members, or fewer holding about this many bytes (whichever comes first). */
const CHUNK_FILES = 64;
const CHUNK_BYTES = 8 << 20;

export interface StageOptions {
  onBytes: (egg: string, bytes: number) => void;
  signal?: AbortSignal;
}

export async function extractAll(job: Job, opts: StageOptions): Promise<Extracted[]> {
  const { tasks } = job;
  const bytes = tasks.reduce((n, t) => n + t.uncompressedSize, 0);
  const threads = threadCount();
  const onBytes = (egg: string, n: number): void => {
    if (opts.signal?.aborted) throw interrupted();
    opts.onBytes(egg, n);
  };
  if (threads < 2 || (tasks.length < PARALLEL_MIN_FILES && bytes < PARALLEL_MIN_BYTES)) {
    return (await extractTasks(job, onBytes)).map(([, r]) => r);
  }
  const shared = sharing(chunksOf(tasks));
  /** On a failure in any thread, the others stop at their next chunk. */
  const stopOthers = (e: unknown): never => {
    stopSharing(shared);
    throw e;
  };
  const others = Array.from({ length: Math.min(threads, shared.chunks.length - 1) - 1 }, () =>
    runWorker({ ...job, shared }, opts).catch(stopOthers),
  );
  // This thread takes chunks too: it would only wait otherwise.
  const mine = extractTasks({ ...job, shared }, onBytes).catch(stopOthers);
  const settled = await Promise.allSettled([mine, ...others]);
  const failed = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  const results = new Array<Extracted>(tasks.length);
  for (const r of settled) for (const [i, x] of (r as PromiseFulfilledResult<Array<[number, Extracted]>>).value) results[i] = x;
  return results;
}

export const interrupted = (): PkgError =>
  new PkgError(ErrorCodes.INTERRUPTED, 'interrupted while staging; every change was rolled back', { hint: 'run the command again' });

/** The first task of each chunk, then tasks.length. */
function chunksOf(tasks: Task[]): number[] {
  const starts = [0];
  let files = 0;
  let bytes = 0;
  tasks.forEach((t, i) => {
    if (i > 0 && (files >= CHUNK_FILES || bytes >= CHUNK_BYTES)) {
      starts.push(i);
      files = 0;
      bytes = 0;
    }
    files++;
    bytes += t.uncompressedSize;
  });
  starts.push(tasks.length);
  return starts;
}

function runWorker(job: Job, opts: StageOptions): Promise<Array<[number, Extracted]>> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      opts.signal?.removeEventListener('abort', onAbort);
      fn();
      void worker.terminate();
    };
    const onAbort = (): void => finish(() => reject(interrupted()));
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (m: WorkerReply) => {
      if (m.type === 'progress') opts.onBytes(m.egg, m.bytes);
      else if (m.type === 'done') finish(() => resolve(m.results));
      else finish(() => reject(errorFrom(m.error)));
    });
    worker.on('error', (e) => finish(() => reject(e)));
    worker.on('exit', (code) =>
      finish(() => reject(new PkgError(ErrorCodes.IO, `an extraction thread stopped unexpectedly (exit ${code})`))),
    );
    worker.postMessage(job);
  });
}

/** What extraction needs of an archive member. */
export function dataRef(e: ArchiveEntry): DataRef {
  return {
    name: e.name,
    method: e.method,
    crc32: e.crc32,
    compressedSize: e.compressedSize,
    uncompressedSize: e.uncompressedSize,
    dataStart: e.dataStart,
  };
}
