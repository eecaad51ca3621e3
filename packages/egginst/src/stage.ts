/**
 * Stage 4: put every file of a plan into the transaction's staging tree - linked (cloned, copied)
 * from the package store, or extracted from the archive (extract-all.ts) - with links, generated
 * scripts and the install records beside them.
 */
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { crashPoint } from './crash.js';
import { dataRef, extractAll, interrupted } from './extract-all.js';
import type { Task } from './extract-worker.js';
import type { TransactionFs } from './journal.js';
import type { LayoutItem } from './layout.js';
import { type Linker, linkedMode, type ResolvedLinkMode } from './link.js';
import { dataBlocks, type FilePlan, type PreparedEgg, type StageItem } from './plan.js';
import { serializeRecord } from './record.js';
import { directoriesOf } from './paths.js';
import { mayBeObjectCode } from './relocate.js';
import { rewriteShebang } from './shebang.js';
import { storedPath, type StoreEntry } from './store.js';
import { runTreeOps, type TreeFs, type TreeOp, type TreeThreads } from './tree-ops.js';
import type { FileRecord, InstallRecord, Reporter } from './types.js';

export interface StagePlanInput {
  prefix: string;
  /** The transaction's directory; staged paths in the plan are relative to it. */
  dir: string;
  plan: FilePlan;
  eggs: PreparedEgg[];
  /** For the links, generated files and records written here (files are extracted with node:fs). */
  fs: Pick<TransactionFs, 'mkdirSync' | 'symlinkSync' | 'writeFileSync'> & TreeFs;
  reporter: Reporter;
  signal?: AbortSignal;
  /**
   * Each egg's store entry, when files are linked from the store instead of extracted, and the spare
   * directories (store.ts spareDirs) the staging tree may take instead of making its own.
   */
  store?: { entries: Map<PreparedEgg, StoreEntry>; linker: Linker; spares?: () => string[] };
  /** The worker threads that share the staging tree's operations (default: started for it). */
  threads?: TreeThreads;
}

/** What staging wrote. */
export interface Staged {
  /**
   * The staged files and records at their places in the prefix (listed when asked), none of them
   * flushed: the transaction makes them durable together with its renames, once those are done and
   * before the commit is written (journal.ts applyOps), by one flush of the filesystem.
   */
  unflushed: () => string[];
  /** Each egg's install record, as written. */
  records: Map<PreparedEgg, InstallRecord>;
}

/** Stage every item of the plan, then write each egg's install record beside its files. */
export async function stagePlan(input: StagePlanInput): Promise<Staged> {
  const { dir, plan, reporter, fs } = input;
  const facts = new Map<string, FileRecord>();
  const totals = new Map<string, { done: number; total: number }>();
  const all = plan.stage.filter((s) => s.item.kind === 'file');
  const linked = input.store ? all.filter((s) => fromStore(s, input.store!.entries)) : [];
  const linkedSet = new Set(linked);
  const files = all.filter((s) => !linkedSet.has(s));
  makeStagingTree(input, linked, facts);
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
  const tasks: Task[] = files.map((s) => {
    const { entry, mode } = s.item as FileItem;
    const task: Task = { ...dataRef(entry), archive: s.egg.archive.path, eggName: s.egg.meta.eggName, dest: join(dir, s.staged), mode };
    if (mayBeObjectCode(entry.name)) task.reloc = order.get(s.egg)!;
    return task;
  });
  const relocations = input.eggs.map((e) => ({ prefix: input.prefix, targets: e.layout.targets }));
  const installs = tasks.some((t) => t.reloc !== undefined)
    ? plan.stage.filter((s) => s.item.kind !== 'generated').map((s) => s.item.dest)
    : [];
  const results = await extractAll(
    { tasks, relocations, installs },
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

  for (const s of plan.stage) {
    const item = s.item;
    if (item.kind === 'file') continue;
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

  const byEgg = new Map<PreparedEgg, FileRecord[]>(input.eggs.map((e) => [e, []]));
  for (const s of plan.stage) byEgg.get(s.egg)!.push(facts.get(s.staged)!);
  const records = new Map<PreparedEgg, InstallRecord>();
  for (const egg of input.eggs) {
    const recs = byEgg.get(egg)!.sort((a, b) => (a.path < b.path ? -1 : 1));
    const staged = plan.records.get(egg)!;
    const record = buildRecord(egg, recs, input.prefix);
    fs.writeFileSync(join(dir, staged), serializeRecord(record), { mode: 0o644, flag: 'wx' });
    records.set(egg, record);
  }
  // Where they will be once renamed into place, and listed only if asked for: syncfs needs no list (durable.ts).
  const unflushed = (): string[] =>
    [
      ...[...facts.values()].filter((f) => f.kind === 'file').map((f) => f.path),
      ...[...plan.records.keys()].map((e) => e.layout.recordPath),
    ].map((p) => join(input.prefix, p));
  return { unflushed, records };
}

type FileItem = Extract<LayoutItem, { kind: 'file' }>;

/**
 * Make the staging tree - every directory once, parents first (a recursive mkdir per file's directory
 * also tries, fails and retries its parents) - and link (clone, copy) the files taken from the store
 * into it: one list of operations, each staged unit (`s/<n>`) a group, its directories before its
 * files, shared between threads when it is long (tree-ops.ts). Progress in files per egg.
 */
function makeStagingTree(input: StagePlanInput, linked: StageItem[], facts: Map<string, FileRecord>): void {
  const { dir, plan } = input;
  const top: string[] = [];
  const units = new Map<string, TreeOp[]>();
  const unit = (staged: string): TreeOp[] => {
    const j = staged.indexOf('/', staged.indexOf('/') + 1);
    const key = j === -1 ? staged : staged.slice(0, j);
    let ops = units.get(key);
    if (!ops) units.set(key, (ops = []));
    return ops;
  };
  const dirs = directoriesOf([...plan.stage.map((s) => s.staged), ...plan.records.values()]);
  for (const d of dirs) if (!d.includes('/')) top.push(d);
  const treeFs = { fs: input.fs, ...(input.threads ? { threads: input.threads } : {}) };
  runTreeOps(
    top.map((d) => ({ op: 'mkdir', path: join(dir, d) })),
    [0],
    treeFs,
  );
  // Spare directories renamed into place where there are any, with the mode a mkdir just gave `top`.
  const spares = input.store?.spares && dirs.length > top.length ? input.store.spares() : [];
  const mode = spares.length > 0 && top.length > 0 ? input.fs.lstatSync(join(dir, top[0]!)).mode & 0o7777 : 0;
  // Paths by concatenation: `dir` is absolute and normal, the staged paths relative and normal (plan.ts).
  for (const d of dirs) {
    if (!d.includes('/')) continue;
    const path = `${dir}/${d}`;
    unit(d).push(mode && spares.length > 0 ? { op: 'adopt', src: spares.pop()!, path, mode } : { op: 'mkdir', path });
  }
  const eggOf = new Map<TreeOp, PreparedEgg>();
  const totals = new Map<PreparedEgg, { done: number; total: number }>();
  const linker = input.store?.linker;
  for (const s of linked) {
    const item = s.item as FileItem;
    const entry = input.store!.entries.get(s.egg)!;
    const file = entry.byPath.get(item.entry.name)!;
    const how = isMetadata(item.entry.name) ? 'copy' : linker!.how(noHardlink(s.egg));
    const op: TreeOp = { op: 'link', src: storedPath(entry, file), dest: `${dir}/${s.staged}`, how, mode: item.mode };
    unit(s.staged).push(op);
    eggOf.set(op, s.egg);
    facts.set(s.staged, { path: item.dest, kind: 'file', sha256: file.sha256, size: file.size, mode: linkedMode(how, item.mode) });
    const t = totals.get(s.egg) ?? { done: 0, total: 0 };
    t.total++;
    totals.set(s.egg, t);
  }
  const tell = (egg: PreparedEgg, t: { done: number; total: number }): void =>
    input.reporter.report({
      type: 'install',
      progress: { phase: 'stage', subject: egg.meta.eggName, done: t.done, total: t.total, unit: 'files' },
    });
  const ops: TreeOp[] = [];
  const groups: number[] = [];
  for (const g of units.values()) {
    groups.push(ops.length);
    ops.push(...g);
  }
  runTreeOps(ops, groups, {
    ...treeFs,
    onOp: (i) => {
      if (input.signal?.aborted) throw interrupted();
      const egg = eggOf.get(ops[i]!);
      if (!egg) return;
      const t = totals.get(egg)!;
      if (++t.done % LINK_PROGRESS_EVERY === 0) tell(egg, t);
    },
    explain: (e, op) => (op.op === 'link' ? linker!.failure(e, op.how) : e),
  });
  // The other threads' files are done too: each egg's last word.
  for (const [egg, t] of totals) tell(egg, { done: t.total, total: t.total });
  if (input.store) crashPoint('linked');
}

/**
 * Whether a staged item is taken from the store rather than extracted from the archive: files only,
 * and never what staging rewrites for the prefix - object code, which may be relocated (the store
 * knows which files start as object code does), egg scripts whose shebang is rewritten. The
 * package's metadata under EGG-INFO/<key> is taken from the store as a copy, whatever the mode.
 */
export function fromStore(s: StageItem, entries: Map<PreparedEgg, StoreEntry>): boolean {
  if (s.item.kind !== 'file') return false;
  const name = s.item.entry.name;
  if (isEggScript(name)) return false;
  const entry = entries.get(s.egg);
  // An egg not in the store yet is judged by its names alone (for the free-space check).
  if (!entry) return !mayBeObjectCode(name);
  const stored = entry.byPath.get(name);
  return stored !== undefined && !(stored.object && mayBeObjectCode(name));
}

/**
 * The data bytes of the plan's staged files that linking by `mode` puts into the prefix without new
 * blocks (clones share them, hard links are them): what the free-space check need not ask for.
 * `entries`: the store entries known so far.
 */
export function sharedBytes(plan: FilePlan, entries: Map<PreparedEgg, StoreEntry>, mode: ResolvedLinkMode): number {
  if (mode === 'copy') return 0;
  let n = 0;
  for (const s of plan.stage)
    if (fromStore(s, entries) && !isMetadata((s.item as FileItem).entry.name) && (mode === 'clone' || !noHardlink(s.egg)))
      n += dataBlocks((s.item as FileItem).entry.uncompressedSize);
  return n;
}

/** The package's own metadata (EGG-INFO/<key> in the prefix): copied, never shared with the store. */
const isMetadata = (name: string): boolean =>
  name.startsWith('EGG-INFO/') && !name.startsWith('EGG-INFO/prefix/') && !name.startsWith('EGG-INFO/usr/');

/** An egg with a post-install script gets no hard links: what the script rewrites cannot be known. */
const noHardlink = (egg: PreparedEgg): boolean => egg.layout.postInstall !== undefined;

/** Progress is told every this many files linked (and at each egg's last). */
const LINK_PROGRESS_EVERY = 256;

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
