/**
 * Many small filesystem operations at once: the directories of a staging tree and the files linked
 * into it from the package store (stage.ts), the trees a transaction moved aside and staged, removed
 * by its cleanup (journal.ts). mkdir, link, unlink and rmdir spend most of their time in the
 * filesystem (its journal, its allocation), little on a core: two threads get through such a tree
 * about 1.4 times as fast as one on ext4. So a large list is shared with worker threads (parallel.ts),
 * and waited for on shared memory - synchronously, because the cleanup of a commit and of a recovery
 * runs without an event loop to wait on.
 */
import { randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { chmodSync, constants, copyFileSync, linkSync } from 'node:fs';
import { join } from 'node:path';
import { MessageChannel, type MessagePort, receiveMessageOnPort, threadId, Worker } from 'node:worker_threads';
import type { TransactionFs } from './journal.js';
import { claimer, errorFrom, errorReply, type ErrorReply, type Shared, sharing, stopSharing, threadCount } from './parallel.js';

/** How a file of a store entry is put into the staging tree (link.ts decides which). */
export type PlaceMode = 'clone' | 'hardlink' | 'copy';

export type TreeOp =
  /** Make a directory (0755); one that exists already is fine. */
  | { op: 'mkdir'; path: string }
  /** Put `src` at `dest` (which must not exist) by `how`, a copy or clone getting `mode`. */
  | { op: 'link'; src: string; dest: string; how: PlaceMode; mode: number }
  /** Remove a file or a tree; a missing one is fine. */
  | { op: 'remove'; path: string }
  /**
   * Make a directory by renaming the spare (empty) directory `src` to `path` and giving it `mode`,
   * what a mkdir here makes; if the rename fails (the spare is gone), make it as mkdir does.
   */
  | { op: 'adopt'; src: string; path: string; mode: number };

/** What the operations need of a filesystem: an injected one (the rollback tests') keeps every call in this thread. */
export type TreeFs = Pick<TransactionFs, 'lstatSync' | 'mkdirSync' | 'readdirSync' | 'renameSync' | 'rmdirSync' | 'unlinkSync'>;

/**
 * Where a removal puts the directories it has emptied, instead of removing them: a directory of
 * spare directories (the package store's, store.ts), on the filesystem of the tree. `room` (shared
 * between the threads) is how many more it may take; a directory not owned by `uid` is removed.
 */
export interface SpareSink {
  dir: string;
  room: Int32Array;
  uid: number;
}

export interface TreeOptions {
  fs?: TreeFs;
  /** Called in this thread after each operation it did, with its index; a throw stops the work (an interrupt). */
  onOp?: (i: number) => void;
  /**
   * Below `minOps` operations, starting a thread costs more than it saves; a chunk holds whole groups
   * of at least `chunkOps` operations. Default: single files and directories.
   */
  weight?: { minOps: number; chunkOps: number };
  /** What to throw for an operation's failure (default: the error as it is). */
  explain?: (e: unknown, op: TreeOp) => unknown;
  /** The threads to share the work with (default: started for this list, and stopped after it). */
  threads?: TreeThreads;
  /** Removals keep the directories they empty here, while there is room (default: they remove them). */
  spare?: SpareSink;
}

/** Below this many operations (by default), one thread does them: starting another costs more than it saves. */
export const THREADED_OPS = 3000;
const SMALL_OPS = { minOps: THREADED_OPS, chunkOps: 256 };

/**
 * Do `ops`. `groups` holds the index of each group's first operation: a group's operations are done
 * in order by one thread (a tree's directories before the files linked into them); groups may be done
 * in any order, at once. Every operation has been done when this returns; on a failure, the first
 * error is thrown once no thread is working any more.
 */
export function runTreeOps(ops: TreeOp[], groups: number[], opts: TreeOptions = {}): void {
  startTreeOps(ops, groups, opts).finish();
}

/** Operations under way in other threads, until finish(). */
export interface TreeWork {
  /** This thread's share of what is left, then the wait for the others: as runTreeOps after it returns. */
  finish(): void;
}

/**
 * runTreeOps in two halves: the worker threads start on `ops` now, while this thread goes on with
 * something else, and finish() joins them. Without worker threads (an injected filesystem, a short
 * list) every operation waits for finish().
 */
export function startTreeOps(ops: TreeOp[], groups: number[], opts: TreeOptions = {}): TreeWork {
  const fs = opts.fs ?? nodeFs;
  const weight = opts.weight ?? SMALL_OPS;
  const explain = opts.explain ?? ((e: unknown) => e);
  const threads = opts.threads ?? new TreeThreads();
  if (fs !== nodeFs || threads.count === 0 || ops.length < weight.minOps) {
    return {
      finish: () => {
        try {
          doOps(fs, ops, claimer(ops.length), opts.onOp, opts.spare);
        } catch (e) {
          throw failed(e) ? explain(e.cause, ops[e.op]!) : e;
        }
      },
    };
  }
  const shared = sharing(chunksOf(groups, ops.length, weight.chunkOps));
  const busy = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  // No operation may still be running when finish() returns (or throws: a rollback follows).
  const idle = (): void => {
    for (let n = Atomics.load(busy, 0); n !== 0; n = Atomics.load(busy, 0)) Atomics.wait(busy, 0, n, 1000);
    if (!opts.threads) threads.close();
  };
  try {
    const workers = threads.take(Math.min(threads.count, shared.chunks.length - 2));
    const encoded = workers.length > 0 ? encodeOps(ops) : undefined;
    workers.forEach((w, i) => {
      const job: TreeJob = { ops: encoded!, shared, busy, port: i === 0 ? port2 : undefined, spare: opts.spare };
      w.postMessage(job, i === 0 ? [port2] : []);
    });
  } catch (e) {
    stopSharing(shared);
    idle();
    port1.close();
    throw e;
  }
  return {
    finish: () => {
      let failure: unknown;
      try {
        doOps(fs, ops, claimer(ops.length, shared), opts.onOp, opts.spare);
      } catch (e) {
        stopSharing(shared);
        failure = failed(e) ? explain(e.cause, ops[e.op]!) : e;
      } finally {
        idle();
      }
      const reply = receiveMessageOnPort(port1)?.message as { error: ErrorReply; op: number } | undefined;
      port1.close();
      if (failure !== undefined) throw failure;
      if (reply) throw reply.op >= 0 ? explain(errorFrom(reply.error), ops[reply.op]!) : errorFrom(reply.error);
    },
  };
}

/**
 * The worker threads that share lists of operations with this one (threadCount() - 1 of them),
 * started when first needed, or ahead of it by start() - their start (a few tens of milliseconds
 * of loading, on another core) then overlaps whatever this thread does meanwhile - and kept for the
 * next list until close(). A transaction keeps one for its staging and its cleanup.
 */
export class TreeThreads {
  readonly count: number;
  private readonly workers: Worker[] = [];

  constructor(count = threadCount() - 1) {
    this.count = count;
  }

  /** Start every thread now, unless they run already. */
  start(): void {
    while (this.workers.length < this.count) {
      const worker = new Worker(new URL('./worker.js', import.meta.url), {
        workerData: { kind: 'tree' } satisfies TreeWorkerData,
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      });
      // Never what keeps the process alive; one that failed to start takes no share, and the work is done without it.
      worker.unref();
      worker.on('error', () => {});
      this.workers.push(worker);
    }
  }

  /** `n` threads (at most count), started if need be. */
  take(n: number): Worker[] {
    if (n <= 0) return [];
    this.start();
    return this.workers.slice(0, n);
  }

  /** Stop the threads (each is idle: runTreeOps returns only once nobody works). */
  close(): void {
    for (const w of this.workers.splice(0)) void w.terminate();
  }
}

/** An operation's failure, with its index (the error itself is `cause`). */
class OpFailed {
  constructor(
    readonly op: number,
    readonly cause: unknown,
  ) {}
}
const failed = (e: unknown): e is OpFailed => e instanceof OpFailed;

/** What a tree worker starts with (worker.ts); its work comes as TreeJob messages. */
export interface TreeWorkerData {
  kind: 'tree';
}

/** One list of operations, shared: a worker claims chunks of it until none is left. */
export interface TreeJob {
  ops: EncodedOps;
  shared: Shared;
  /** The number of threads inside a chunk (or about to claim one). */
  busy: Int32Array;
  /** Where the first worker tells its failure (the others' are the same kind, or none). */
  port: MessagePort | undefined;
  spare: SpareSink | undefined;
}

/** A worker thread's loop (worker.ts): each job in turn, its share done synchronously. */
export function serveTreeJobs(port: MessagePort): void {
  port.on('message', (job: TreeJob) => treeWorker(job));
}

function treeWorker(job: TreeJob): void {
  const { shared, busy } = job;
  let ops: TreeOp[] | undefined;
  const claim = claimer(job.ops.kinds.length, shared);
  try {
    for (;;) {
      // Busy before the claim: the main thread never sees no chunk left and nobody busy while one is being done.
      Atomics.add(busy, 0, 1);
      try {
        const range = claim();
        if (!range) return;
        ops ??= decodeOps(job.ops);
        doRange(nodeFs, ops, range, undefined, job.spare);
      } catch (e) {
        stopSharing(shared);
        // Told before this thread stops being busy: the main thread reads it once nobody is.
        const f = failed(e) ? e : new OpFailed(-1, e);
        job.port?.postMessage({ error: errorReply(f.cause), op: f.op });
        return;
      } finally {
        Atomics.sub(busy, 0, 1);
        Atomics.notify(busy, 0);
      }
    }
  } finally {
    job.port?.close();
  }
}

/**
 * Operations as they cross to a worker: a kind (with the link's mode of placing) and a file mode
 * per operation, and their paths in one string, NUL-separated (no path holds a NUL) - one copy,
 * where tens of thousands of small objects would each be serialised and rebuilt.
 */
export interface EncodedOps {
  kinds: Uint8Array;
  modes: Uint16Array;
  paths: string;
}

const KINDS = ['mkdir', 'remove', 'hardlink', 'clone', 'copy', 'adopt'] as const;

export function encodeOps(ops: TreeOp[]): EncodedOps {
  const kinds = new Uint8Array(ops.length);
  const modes = new Uint16Array(ops.length);
  const paths: string[] = [];
  ops.forEach((op, i) => {
    if (op.op === 'link') {
      kinds[i] = KINDS.indexOf(op.how);
      modes[i] = op.mode;
      paths.push(op.src, op.dest);
    } else if (op.op === 'adopt') {
      kinds[i] = KINDS.indexOf('adopt');
      modes[i] = op.mode;
      paths.push(op.src, op.path);
    } else {
      kinds[i] = KINDS.indexOf(op.op);
      paths.push(op.path);
    }
  });
  return { kinds, modes, paths: paths.join('\0') };
}

export function decodeOps(e: EncodedOps): TreeOp[] {
  const paths = e.paths.split('\0');
  let p = 0;
  return Array.from(e.kinds, (k, i): TreeOp => {
    const kind = KINDS[k]!;
    if (kind === 'mkdir' || kind === 'remove') return { op: kind, path: paths[p++]! };
    const src = paths[p++]!;
    if (kind === 'adopt') return { op: kind, src, path: paths[p++]!, mode: e.modes[i]! };
    return { op: 'link', src, dest: paths[p++]!, how: kind, mode: e.modes[i]! };
  });
}

function doOps(fs: TreeFs, ops: TreeOp[], claim: () => [number, number] | null, onOp?: (i: number) => void, spare?: SpareSink): void {
  for (let range = claim(); range !== null; range = claim()) doRange(fs, ops, range, onOp, spare);
}

function doRange(fs: TreeFs, ops: TreeOp[], [from, to]: [number, number], onOp?: (i: number) => void, spare?: SpareSink): void {
  for (let i = from; i < to; i++) {
    try {
      doOp(fs, ops[i]!, spare);
    } catch (e) {
      throw new OpFailed(i, e);
    }
    onOp?.(i);
  }
}

function doOp(fs: TreeFs, op: TreeOp, spare?: SpareSink): void {
  if (op.op === 'link') place(op.how, op.src, op.dest, op.mode);
  else if (op.op === 'remove') removeTree(fs, op.path, spare);
  else if (op.op === 'mkdir' || !adopt(fs, op)) makeDir(fs, op.path);
}

/** Rename the spare into place with its mode; false if the spare is not there to take. */
function adopt(fs: TreeFs, op: Extract<TreeOp, { op: 'adopt' }>): boolean {
  try {
    fs.renameSync(op.src, op.path);
  } catch {
    return false;
  }
  chmodSync(op.path, op.mode);
  return true;
}

function makeDir(fs: TreeFs, path: string): void {
  try {
    fs.mkdirSync(path, { mode: 0o755 });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
}

/** This thread's names for the directories it keeps as spares: unique across threads, processes and runs. */
const SPARE_NAME = `${process.pid}.${threadId}.${randomBytes(4).toString('hex')}`;
let spares = 0;

/** Keep the emptied directory `path` in `sink`, if there is room and it is ours; false: remove it. */
function keepSpare(fs: RemoveFs, path: string, sink: SpareSink): boolean {
  if (!fs.lstatSync || !fs.renameSync || Atomics.sub(sink.room, 0, 1) <= 0) return false;
  try {
    if (fs.lstatSync(path).uid !== sink.uid) return false;
    fs.renameSync(path, join(sink.dir, `${SPARE_NAME}.${spares++}`));
    return true;
  } catch {
    // Another filesystem after all (a bind mount), or the sink gone: remove the rest.
    Atomics.store(sink.room, 0, 0);
    return false;
  }
}

/** The first operation of each chunk (whole groups, at least `size` operations), then `count`. */
function chunksOf(groups: number[], count: number, size: number): number[] {
  const starts = [0];
  for (const g of groups) if (g > 0 && g < count && g - starts[starts.length - 1]! >= size) starts.push(g);
  starts.push(count);
  return starts;
}

/** Put `src` at `dest` (which must not exist): a hard link, a clone (reflink) or a copy, the last two with `fileMode`. */
export function place(mode: PlaceMode, src: string, dest: string, fileMode: number): void {
  if (mode === 'hardlink') {
    linkSync(src, dest);
    return;
  }
  copyFileSync(src, dest, constants.COPYFILE_EXCL | (mode === 'clone' ? constants.COPYFILE_FICLONE_FORCE : 0));
  chmodSync(dest, fileMode);
}

/** What a removal needs of a filesystem; keeping directories as spares, also lstat and rename. */
type RemoveFs = Pick<TreeFs, 'readdirSync' | 'rmdirSync' | 'unlinkSync'> & Partial<Pick<TreeFs, 'lstatSync' | 'renameSync'>>;

/**
 * Remove a file or a tree; a missing one is fine. One readdir per directory and one unlink per file
 * (rmSync's recursion also lstats every entry and tries each rmdir before it reads the directory:
 * about twice the system calls over the tens of thousands of files a transaction moves aside).
 * With `spare`, each emptied directory is kept there while there is room, instead of removed.
 */
export function removeTree(fs: RemoveFs, path: string, spare?: SpareSink): void {
  let entries: nodeFs.Dirent[];
  try {
    entries = fs.readdirSync(path, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return;
    if (code !== 'ENOTDIR') throw e;
    fs.unlinkSync(path);
    return;
  }
  for (const e of entries) {
    const p = join(path, e.name);
    if (e.isDirectory()) removeTree(fs, p, spare);
    else fs.unlinkSync(p);
  }
  if (!spare || !keepSpare(fs, path, spare)) fs.rmdirSync(path);
}

/**
 * Remove the trees `paths` with their contents, the large ones shared between threads one child at
 * a time (a transaction's `b` and `s` hold one child per place). A missing path is fine.
 */
export function removeTrees(paths: string[], opts: TreeOptions = {}): void {
  startRemoveTrees(paths, opts).finish();
}

/** removeTrees in two halves, as startTreeOps: the other threads start now, finish() does the rest. */
export function startRemoveTrees(paths: string[], opts: TreeOptions = {}): TreeWork {
  const fs = opts.fs ?? nodeFs;
  const ops: TreeOp[] = [];
  const roots: string[] = [];
  for (const path of paths) {
    let names: string[];
    try {
      names = fs.readdirSync(path) as string[];
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') continue;
      if (code !== 'ENOTDIR') throw e;
      names = [];
    }
    for (const n of names) ops.push({ op: 'remove', path: join(path, n) });
    roots.push(path);
  }
  // A child may be one file or a whole package's tree: each is a chunk, and a few are worth a thread.
  const work = startTreeOps(
    ops,
    ops.map((_, i) => i),
    { weight: { minOps: 16, chunkOps: 1 }, ...opts },
  );
  return {
    finish: () => {
      work.finish();
      for (const r of roots) removeTree(fs, r, opts.spare);
    },
  };
}
