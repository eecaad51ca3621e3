/**
 * Stage 4: extract every file of a plan into the transaction's staging tree, with links, generated
 * scripts and the install records beside them. Small jobs run in this
 * thread; large ones are split into contiguous archive ranges of about equal bytes, one per worker
 * thread, so each worker still reads its archive front to back.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ArchiveEntry } from './archive.js';
import { crashPoint } from './crash.js';
import { flushFilesystem } from './durable.js';
import { ErrorCodes, PkgError } from './errors.js';
import type { DataRef, Extracted } from './extract.js';
import { extractTasks, type Job, type Relocation, type Task, type WorkerReply } from './extract-worker.js';
import type { TransactionFs } from './journal.js';
import type { LayoutItem } from './layout.js';
import type { Linker } from './link.js';
import type { FilePlan, PreparedEgg, StageItem } from './plan.js';
import { serializeRecord } from './record.js';
import { mayBeObjectCode } from './relocate.js';
import { rewriteShebang } from './shebang.js';
import { storedPath, type StoreEntry, type StoreFile } from './store.js';
import type { FileRecord, InstallRecord, Reporter } from './types.js';

/** Below this much work, starting threads costs more than it saves. */
const PARALLEL_MIN_FILES = 2000;
const PARALLEL_MIN_BYTES = 256 << 20;
/** What a file costs beyond its bytes (open, create, close), in bytes-equivalents. */
const PER_FILE_COST = 32 << 10;

export interface StageOptions {
  onBytes: (egg: string, bytes: number) => void;
  signal?: AbortSignal;
}

export async function extractAll({ tasks, relocations }: Job, opts: StageOptions): Promise<Extracted[]> {
  const bytes = tasks.reduce((n, t) => n + t.uncompressedSize, 0);
  const threads = threadCount();
  if (threads < 2 || (tasks.length < PARALLEL_MIN_FILES && bytes < PARALLEL_MIN_BYTES)) {
    return extractTasks({ tasks, relocations }, (egg, n) => {
      if (opts.signal?.aborted) throw interrupted();
      opts.onBytes(egg, n);
    });
  }
  // This thread takes the first share itself: it would only wait otherwise.
  const [own = [], ...rest] = split(tasks, threads);
  const others = rest.map((share) => runWorker({ tasks: share, relocations }, opts));
  const mine = extractTasks({ tasks: own, relocations }, (egg, n) => {
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

const interrupted = (): PkgError =>
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

export interface StagePlanInput {
  prefix: string;
  /** The transaction's directory; staged paths in the plan are relative to it. */
  dir: string;
  plan: FilePlan;
  eggs: PreparedEgg[];
  durable: boolean;
  /** For the links, generated files and records written here (files are extracted with node:fs). */
  fs: Pick<TransactionFs, 'mkdirSync' | 'symlinkSync' | 'writeFileSync'>;
  reporter: Reporter;
  signal?: AbortSignal;
  /** Each egg's store entry, when files are linked from the store instead of extracted. */
  store?: { entries: Map<PreparedEgg, StoreEntry>; linker: Linker };
}

/** Stage every item of the plan, then write each egg's install record beside its files. */
export async function stagePlan(input: StagePlanInput): Promise<void> {
  const { dir, plan, reporter, fs } = input;
  const facts = new Map<string, FileRecord>();
  const totals = new Map<string, { done: number; total: number }>();
  const all = plan.stage.filter((s) => s.item.kind === 'file');
  const linked = input.store ? all.filter((s) => storedFile(s, input.store!.entries) !== undefined) : [];
  const fromStore = new Set(linked);
  const files = all.filter((s) => !fromStore.has(s));
  if (input.store) linkFromStore(input, linked, facts);
  for (const s of files) {
    const t = totals.get(s.egg.meta.eggName) ?? { done: 0, total: 0 };
    if (s.item.kind === 'file') t.total += s.item.entry.uncompressedSize;
    totals.set(s.egg.meta.eggName, t);
  }
  // In archive order, so that each archive is read front to back.
  const order = new Map(input.eggs.map((e, i) => [e, i]));
  files.sort(
    (a, b) => order.get(a.egg)! - order.get(b.egg)! || (a.item as FileItem).entry.dataStart - (b.item as FileItem).entry.dataStart,
  );
  const relocations = input.eggs.map((e) => relocationOf(e, input));
  const tasks: Task[] = files.map((s) => {
    const { entry, mode } = s.item as FileItem;
    const task: Task = { ...dataRef(entry), archive: s.egg.archive.path, eggName: s.egg.meta.eggName, dest: join(dir, s.staged), mode };
    if (mayBeObjectCode(entry.name)) task.reloc = order.get(s.egg)!;
    return task;
  });
  const results = await extractAll(
    { tasks, relocations },
    {
      onBytes: (egg, n) => {
        const t = totals.get(egg)!;
        t.done += n;
        reporter.report({ type: 'install', progress: { phase: 'stage', subject: egg, done: t.done, total: t.total, unit: 'bytes' } });
      },
      ...(input.signal ? { signal: input.signal } : {}),
    },
  );
  files.forEach((s, i) => {
    const item = s.item as FileItem;
    facts.set(s.staged, { path: item.dest, kind: 'file', sha256: results[i]!.sha256, size: results[i]!.size, mode: item.mode });
  });
  for (const s of files) {
    const { entry } = s.item as FileItem;
    if (!isEggScript(entry.name)) continue;
    const path = join(dir, s.staged);
    const script = startsWithShebang(path) ? rewriteShebang(readFileSync(path), s.egg.python) : null;
    if (!script) continue;
    fs.writeFileSync(path, script, { flag: 'w' });
    facts.set(s.staged, { ...facts.get(s.staged)!, sha256: createHash('sha256').update(script).digest('hex'), size: script.length });
  }
  crashPoint('relocated');

  const parent = (staged: string): void => void fs.mkdirSync(join(dir, dirname(staged)), { recursive: true, mode: 0o755 });
  for (const s of plan.stage) {
    const item = s.item;
    if (item.kind === 'file') continue;
    parent(s.staged);
    const path = join(dir, s.staged);
    if (item.kind === 'link') {
      fs.symlinkSync(item.target, path);
      facts.set(s.staged, { path: item.dest, kind: 'link', target: item.target });
    } else {
      fs.writeFileSync(path, item.content, { mode: item.mode, flag: 'wx' });
      facts.set(s.staged, {
        path: item.dest,
        kind: 'file',
        sha256: createHash('sha256').update(item.content).digest('hex'),
        size: Buffer.byteLength(item.content),
        mode: item.mode,
      });
    }
  }

  for (const egg of input.eggs) {
    const recs = plan.stage
      .filter((s) => s.egg === egg)
      .map((s) => facts.get(s.staged)!)
      .sort((a, b) => (a.path < b.path ? -1 : 1));
    const staged = plan.records.get(egg)!;
    parent(staged);
    fs.writeFileSync(join(dir, staged), serializeRecord(buildRecord(egg, recs, input.prefix)), { mode: 0o644, flag: 'wx' });
  }
  if (input.durable) {
    const durableFiles = [...facts].filter(([, f]) => f.kind === 'file').map(([p]) => p);
    flushFilesystem(input.prefix, () => [...durableFiles, ...plan.records.values()].map((p) => join(dir, p)));
  }
}

type FileItem = Extract<LayoutItem, { kind: 'file' }>;

/**
 * The store's file for a staged item, if it is to be linked: never for what staging rewrites for the
 * prefix (object code that may be relocated, egg scripts whose shebang is rewritten) nor for the
 * package's metadata under EGG-INFO/<key>, which are always extracted from the archive.
 */
function storedFile(s: StageItem, entries: Map<PreparedEgg, StoreEntry>): StoreFile | undefined {
  const { entry } = s.item as FileItem;
  const name = entry.name;
  if (mayBeObjectCode(name) || isEggScript(name)) return undefined;
  if (name.startsWith('EGG-INFO/') && !name.startsWith('EGG-INFO/prefix/') && !name.startsWith('EGG-INFO/usr/')) return undefined;
  return entries.get(s.egg)?.byPath.get(name);
}

/** Link (clone, copy) files from the store; an egg with a post-install script gets no hard links. */
function linkFromStore(input: StagePlanInput, linked: StageItem[], facts: Map<string, FileRecord>): void {
  const { entries, linker } = input.store!;
  const dirs = new Set<string>();
  for (const s of linked) {
    if (input.signal?.aborted) throw interrupted();
    const item = s.item as FileItem;
    const entry = entries.get(s.egg)!;
    const file = entry.byPath.get(item.entry.name)!;
    const dest = join(input.dir, s.staged);
    const dir = dirname(dest);
    if (!dirs.has(dir)) {
      input.fs.mkdirSync(dir, { recursive: true, mode: 0o755 });
      dirs.add(dir);
    }
    const mode = linker.link(storedPath(entry, file), dest, item.mode, s.egg.layout.postInstall !== undefined);
    facts.set(s.staged, { path: item.dest, kind: 'file', sha256: file.sha256, size: file.size, mode });
  }
  crashPoint('linked');
}

/** An egg's own script, whose python shebang is rewritten (scripts egginst generates already have the right one). */
const isEggScript = (name: string): boolean => name.startsWith('EGG-INFO/scripts/') || name.startsWith('EGG-INFO/usr/bin/');

/** Whether a staged file starts with `#!` (read before a possibly large program is read whole). */
function startsWithShebang(path: string): boolean {
  const fd = openSync(path, 'r');
  try {
    const b = Buffer.alloc(2);
    return readSync(fd, b, 0, 2, 0) === 2 && b.toString('latin1') === '#!';
  } finally {
    closeSync(fd);
  }
}

/** Where an egg's placeholders point: its targets, and the libraries every egg of the transaction installs under them. */
function relocationOf(egg: PreparedEgg, input: StagePlanInput): Relocation {
  const targets = egg.layout.targets;
  const under = (dest: string): boolean => targets.some((t) => dest.startsWith(`${t}/`));
  const libraries = input.plan.stage.filter((s) => s.item.kind !== 'generated' && under(s.item.dest)).map((s) => s.item.dest);
  return { prefix: input.prefix, targets, libraries };
}

function dataRef(e: ArchiveEntry): DataRef {
  return {
    name: e.name,
    method: e.method,
    crc32: e.crc32,
    compressedSize: e.compressedSize,
    uncompressedSize: e.uncompressedSize,
    dataStart: e.dataStart,
  };
}

function buildRecord(egg: PreparedEgg, recs: FileRecord[], prefix: string): InstallRecord {
  const { meta, layout } = egg;
  const { extra: _extra, ...spec } = meta.spec;
  return {
    egg_name: meta.eggName,
    name: meta.id.name,
    key: meta.id.key,
    version: meta.id.version,
    build: meta.id.build,
    files: [...recs.map((r) => r.path), layout.recordPath].sort().map((p) => `./${p}`),
    records: recs,
    installed_size: recs.reduce((n, r) => n + (r.size ?? 0), 0),
    prefix,
    entry_points: layout.entryPoints,
    links: recs.filter((r) => r.kind === 'link').map((r) => r.path),
    installed_at: installTime(),
    spec,
  };
}

/** Now, or SOURCE_DATE_EPOCH when set (reproducible prefixes, as in reproducible builds). */
function installTime(): string {
  const epoch = Number(process.env.SOURCE_DATE_EPOCH);
  return new Date(process.env.SOURCE_DATE_EPOCH && Number.isFinite(epoch) ? epoch * 1000 : Date.now()).toISOString();
}
