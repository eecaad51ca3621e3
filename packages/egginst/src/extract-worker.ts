/**
 * A worker thread that extracts a share of the staging work (see stage.ts) or of a store fill. It
 * opens the archives itself, writes each entry to its path (whose directory the caller made; object
 * code relocated for the prefix), and answers with the sha256 and size of each.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { type ErrorCode, ErrorCodes, PkgError } from './errors.js';
import { extractLarge, extractSmallSync, hashFile, isSmall, type DataRef, type Extracted } from './extract.js';
import { objectFormat, type RelocationContext } from './relocate.js';

export interface Task extends DataRef {
  archive: string;
  eggName: string;
  dest: string;
  mode: number;
  /** Index of the egg's relocation in the job's table, when the entry may hold object code. */
  reloc?: number;
  /**
   * Read the file back once written and check its sha256 against what was inflated (STORE_CORRUPT
   * otherwise), and say whether it starts as object code: how the package store verifies an entry.
   */
  readBack?: boolean;
}

/** How one egg's object code is relocated (plain data: it travels to the worker threads). */
export interface Relocation {
  /** The prefix, absolute. */
  prefix: string;
  /** Prefix-relative directories in search order (targets.dat, then lib). */
  targets: string[];
}

export interface Job {
  tasks: Task[];
  relocations: Relocation[];
  /** Prefix-relative paths the transaction installs (a library found there counts as present). */
  installs: string[];
  /**
   * When several threads share the tasks: the tasks are cut into chunks (`chunks` holds each one's
   * first task, then tasks.length), and each thread takes the next chunk nobody has taken
   * (`next[0]`, counted up atomically) until none is left, so that none waits for another.
   */
  shared?: { next: Int32Array; chunks: number[] };
}

export type WorkerReply =
  | { type: 'progress'; egg: string; bytes: number }
  | { type: 'done'; results: Array<[number, Extracted]> }
  | { type: 'error'; error: { code: ErrorCode; message: string; hint?: string; details?: Record<string, unknown>; errno?: string } };

/** Extract the job's tasks (with `shared`, the chunks this thread takes); each result with its task's index. */
export async function extractTasks(job: Job, onBytes: (egg: string, bytes: number) => void): Promise<Array<[number, Extracted]>> {
  const { tasks, relocations, shared } = job;
  const fds = new Map<string, number>();
  const results: Array<[number, Extracted]> = [];
  let whole = false;
  /** The next range of tasks this thread extracts, or null when none is left. */
  const claim = (): [number, number] | null => {
    if (!shared) {
      if (whole) return null;
      whole = true;
      return [0, tasks.length];
    }
    const c = Atomics.add(shared.next, 0, 1);
    return c < shared.chunks.length - 1 ? [shared.chunks[c]!, shared.chunks[c + 1]!] : null;
  };
  let installs: Set<string> | undefined;
  const context = (t: Task): RelocationContext | undefined => {
    if (t.reloc === undefined) return undefined;
    const { prefix, targets } = relocations[t.reloc]!;
    installs ??= new Set(job.installs);
    const installed = installs;
    // A library the transaction installs under one of this egg's targets, or one already there.
    const holds = (rel: string): boolean =>
      (installed.has(rel) && targets.some((d) => rel.startsWith(`${d}/`))) || existsSync(join(prefix, rel));
    return { prefix, targets, holds, eggName: t.eggName, entry: t.name };
  };
  try {
    for (let range = claim(); range !== null; range = claim()) {
      for (let i = range[0]; i < range[1]; i++) {
        const t = tasks[i]!;
        results.push([i, await extractOne(t)]);
        onBytes(t.eggName, results[results.length - 1]![1].size);
      }
    }
    return results;
  } finally {
    for (const fd of fds.values()) closeSync(fd);
  }

  async function extractOne(t: Task): Promise<Extracted> {
    let fd = fds.get(t.archive);
    if (fd === undefined) fds.set(t.archive, (fd = openSync(t.archive, 'r')));
    const ctx = context(t);
    const r = isSmall(t)
      ? extractSmallSync(fd, t.eggName, t, t.dest, t.mode, ctx)
      : await extractLarge(fd, t.eggName, t, t.dest, t.mode, ctx);
    return t.readBack ? readBack(t.dest, r) : r;
  }
}

function readBack(path: string, r: Extracted): Extracted {
  let object = false;
  const got = hashFile(path, (head) => {
    object = objectFormat(head) !== null;
  });
  if (got !== r.sha256) {
    throw new PkgError(ErrorCodes.STORE_CORRUPT, `${path} does not read back as written (sha256 ${got})`, {
      hint: 'the disk or filesystem is failing; nothing was installed',
      details: { path },
    });
  }
  return object ? { ...r, object } : r;
}

if (parentPort) {
  const port = parentPort;
  port.once('message', (job: Job) => {
    let pending = 0;
    let last = '';
    const flush = (): void => {
      if (pending) port.postMessage({ type: 'progress', egg: last, bytes: pending } satisfies WorkerReply);
      pending = 0;
    };
    extractTasks(job, (egg, bytes) => {
      if (egg !== last) flush();
      last = egg;
      pending += bytes;
      if (pending >= 1 << 20) flush();
    }).then(
      (results) => {
        flush();
        port.postMessage({ type: 'done', results } satisfies WorkerReply);
      },
      (e: unknown) => {
        const err = e instanceof PkgError ? e : new PkgError(ErrorCodes.IO, (e as Error).message ?? String(e));
        const error: Extract<WorkerReply, { type: 'error' }>['error'] = { code: err.code, message: err.message, details: err.details };
        if (err.hint) error.hint = err.hint;
        // A system error (ENOSPC, say) keeps its errno, so that it is told the same way as in the main thread.
        const errno = (e as NodeJS.ErrnoException).code;
        if (!(e instanceof PkgError) && typeof errno === 'string') error.errno = errno;
        port.postMessage({ type: 'error', error } satisfies WorkerReply);
      },
    );
  });
}
