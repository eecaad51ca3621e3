/**
 * Extracting a share of the staging work (see stage.ts) or of a store fill, in this thread or in a
 * worker thread (worker.ts, parallel.ts). It opens the archives itself, writes each entry to its path
 * (whose directory the caller made; object code relocated for the prefix), and answers with the
 * sha256 and size of each.
 */
import { closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ErrorCodes, PkgError } from './errors.js';
import { claimer, type ErrorReply, type Shared } from './parallel.js';
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
  shared?: Shared;
}

export type WorkerReply =
  | { type: 'progress'; egg: string; bytes: number }
  | { type: 'done'; results: Array<[number, Extracted]> }
  | { type: 'error'; error: ErrorReply };

/** Extract the job's tasks (with `shared`, the chunks this thread takes); each result with its task's index. */
export async function extractTasks(job: Job, onBytes: (egg: string, bytes: number) => void): Promise<Array<[number, Extracted]>> {
  const { tasks, relocations, shared } = job;
  const fds = new Map<string, number>();
  const results: Array<[number, Extracted]> = [];
  const claim = claimer(tasks.length, shared);
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
