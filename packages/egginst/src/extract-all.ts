/**
 * Inflating many archive members at once: small jobs in this thread; large ones split into
 * contiguous archive ranges of about equal bytes, one per worker thread, so each worker still reads
 * its archive front to back. Used by staging (stage.ts) and by filling the package store (store.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ErrorCodes, PkgError } from './errors.js';
import type { ArchiveEntry } from './archive.js';
import type { DataRef, Extracted } from './extract.js';
import { extractTasks, type Job, type Task, type WorkerReply } from './extract-worker.js';

/** Below this much work, starting threads costs more than it saves. */
const PARALLEL_MIN_FILES = 2000;
const PARALLEL_MIN_BYTES = 256 << 20;
/** What a file costs beyond its bytes (open, create, close), in bytes-equivalents. */
const PER_FILE_COST = 32 << 10;

export interface StageOptions {
  onBytes: (egg: string, bytes: number) => void;
  signal?: AbortSignal;
}

export async function extractAll(job: Job, opts: StageOptions): Promise<Extracted[]> {
  const { tasks } = job;
  const bytes = tasks.reduce((n, t) => n + t.uncompressedSize, 0);
  const threads = threadCount();
  if (threads < 2 || (tasks.length < PARALLEL_MIN_FILES && bytes < PARALLEL_MIN_BYTES)) {
    return extractTasks(job, (egg, n) => {
      if (opts.signal?.aborted) throw interrupted();
      opts.onBytes(egg, n);
    });
  }
  // This thread takes the first share itself: it would only wait otherwise.
  const [own = [], ...rest] = split(tasks, threads);
  const others = rest.map((share) => runWorker({ ...job, tasks: share }, opts));
  const mine = extractTasks({ ...job, tasks: own }, (egg, n) => {
    if (opts.signal?.aborted) throw interrupted();
    opts.onBytes(egg, n);
  });
  const results = await Promise.allSettled([mine, ...others]);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
  return results.flatMap((r) => (r as PromiseFulfilledResult<Extracted[]>).value);
}

/** `EGGINST_THREADS` if set (1 = no worker threads), else the cores available, at most 4. */
export function threadCount(): number {
  const n = Number(process.env.EGGINST_THREADS);
  return Number.isInteger(n) && n >= 1 ? Math.min(n, 16) : Math.min(availableParallelism(), 4);
}

export const interrupted = (): PkgError =>
  new PkgError(ErrorCodes.INTERRUPTED, 'interrupted while staging; every change was rolled back', { hint: 'run the command again' });

/** Contiguous shares of about equal cost. */
function split(tasks: Task[], n: number): Task[][] {
  const cost = (t: Task): number => t.compressedSize + PER_FILE_COST;
  const total = tasks.reduce((s, t) => s + cost(t), 0);
  const shares: Task[][] = [[]];
  let acc = 0;
  for (const t of tasks) {
    if (acc >= (total / n) * shares.length && shares.length < n) shares.push([]);
    shares[shares.length - 1]!.push(t);
    acc += cost(t);
  }
  return shares.filter((s) => s.length > 0);
}

function runWorker(job: Job, opts: StageOptions): Promise<Extracted[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./extract-worker.js', import.meta.url), { resourceLimits: { maxYoungGenerationSizeMb: 4 } });
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
      else if (m.error.errno) finish(() => reject(Object.assign(new Error(m.error.message), { code: m.error.errno })));
      else
        finish(() =>
          reject(
            new PkgError(m.error.code, m.error.message, {
              ...(m.error.hint ? { hint: m.error.hint } : {}),
              ...(m.error.details ? { details: m.error.details } : {}),
            }),
          ),
        );
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
