/**
 * One transaction over a prefix: any number of installs (an install of an installed name replaces
 * it) and removals, all or nothing. The pipeline: lock -> recover -> open + validate archives ->
 * layout -> plan -> check space -> stage -> pre-uninstall scripts -> journal -> renames ->
 * post-install scripts -> commit mark -> cleanup. Until the commit mark, everything rolls back.
 */
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, realpathSync, rmdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { DEFAULT_LIMITS } from './archive.js';
import { crashPoint } from './crash.js';
import { ErrorCodes, PkgError, isPkgError, WarningCodes } from './errors.js';
import { checkSpace, describeFailure, freeBytes, isSystemError, rollbackFailed } from './failure.js';
import {
  applyOps,
  startCleanup,
  defaultFs,
  discard,
  txnDir,
  undoOps,
  writeJournal,
  type Journal,
  type JournalContext,
  type TransactionFs,
} from './journal.js';
import { cleanupFailed, leftover, recoverPrefix, type RecoveryOptions, type RecoveryOutcome } from './recover.js';
import { lockPrefix, type PrefixLock } from './lock.js';
import { planFiles, type FilePlan, type PreparedEgg } from './plan.js';
import { prepareEgg } from './prepare-egg.js';
import { pythonFinder, type Python } from './python.js';
import { readAllRecords } from './record.js';
import { createLinker, defaultLinkMode, type LinkMode } from './link.js';
import { sharedBytes, stagePlan, type StagePlanInput } from './stage.js';
import { hashFile } from './extract.js';
import { bytesToFill, fillEntries, openStore, readEntry, sameFilesystem, spareDirs, spareSink, type StoreEntry } from './store.js';
import { runScript, type ScriptRun } from './scripts.js';
import { THREADED_OPS, TreeThreads } from './tree-ops.js';
import { NO_REPORTER } from './reporter.js';
import type { EggJob, InstallRecord, Limits, Reporter, ScriptOptions, TransactionResult, Warning } from './types.js';

export interface TransactionOptions extends ScriptOptions {
  prefix: string;
  reporter?: Reporter;
  /** Overwrite files owned by other packages; remove despite a failing pre-uninstall script. */
  force?: boolean;
  limits?: Partial<Limits>;
  /** fsync staged files, the journal and directories (default true). */
  durable?: boolean;
  /** Wait for another process's lock instead of failing. */
  wait?: boolean;
  /** A lock the caller already holds on this prefix. */
  lock?: PrefixLock;
  /** Opaque data stored in the journal. */
  payload?: unknown;
  /** Aborting it interrupts the transaction, which then rolls back. */
  signal?: AbortSignal;
  /** What is running, for whoever finds the prefix locked. */
  command?: string;
  /**
   * The filesystem operations of recovery, staging's own writes, the journal, the renames, the
   * rollback and the cleanup (default node:fs; file extraction always uses node:fs). Tests inject
   * failing ones here.
   */
  fs?: TransactionFs;
  /**
   * Install from the package store in `dir` (docs/package-store.md): each egg's entry is filled on
   * its first use, and files are linked from it by `linkMode` (default: EGGINST_LINK_MODE, else auto).
   */
  store?: { dir: string; linkMode?: LinkMode };
}

const DEFAULT_SCRIPT_TIMEOUT = 300;

type State = 'open' | 'prepared' | 'applied' | 'committed' | 'aborted';

export { recoverPrefix, type RecoveryOptions, type RecoveryOutcome, type TransactionFs };

export class EggTransaction {
  readonly id = `txn-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
  readonly recovered: RecoveryOutcome[];
  private state: State = 'open';
  private eggs: PreparedEgg[] = [];
  /** The sha256 of each egg's archive, when known (the caller's, or hashed here for the store). */
  private readonly digests = new Map<PreparedEgg, string | undefined>();
  /** The package store, once opened (and found safe), and the entries read from it by sha256. */
  private storeDir: string | undefined;
  private readonly entries = new Map<string, StoreEntry>();
  private plan: FilePlan | undefined;
  private journal: Journal | undefined;
  private staged = false;
  private readonly warnings: Warning[] = [];
  private readonly records = new Map<string, InstallRecord>();
  private readonly python: Python;
  private readonly reporter: Reporter;
  private readonly limits: Limits;
  private readonly ctx: JournalContext;
  /** What the transaction is doing, for the message of a failure. */
  private step = 'reading the archives';

  /** Use openTransaction(). */
  constructor(
    readonly prefix: string,
    private readonly opts: TransactionOptions,
    private readonly lock: PrefixLock,
    private readonly ownsLock: boolean,
    private readonly createdPrefix: boolean,
  ) {
    this.reporter = opts.reporter ?? NO_REPORTER;
    this.python = pythonFinder(opts.python, prefix);
    this.limits = { ...DEFAULT_LIMITS, ...opts.limits };
    this.ctx = { prefix, fs: opts.fs ?? defaultFs, durable: opts.durable ?? true, threads: new TreeThreads() };
    this.recovered = recoverPrefix(prefix, this.reporter, { fs: this.ctx.fs });
  }

  private warn(w: Warning): void {
    this.warnings.push(w);
    this.reporter.report({ type: 'warning', warning: w });
  }

  private checkInterrupted(): void {
    if (this.opts.signal?.aborted) throw this.interrupted();
  }

  private interrupted(cause?: unknown): PkgError {
    return new PkgError(ErrorCodes.INTERRUPTED, `interrupted while ${this.step}; every change was rolled back`, {
      hint: 'run the command again',
      ...(cause === undefined ? {} : { cause }),
    });
  }

  private expect(state: State, what: string): void {
    if (this.state !== state) throw new PkgError(ErrorCodes.TRANSACTION_STATE, `cannot ${what}: the transaction is ${this.state}`);
  }

  /** Validate every archive, plan every rename, check space, and stage. Nothing visible changes. */
  async prepare(jobs: EggJob[]): Promise<{ changes: FilePlan['changes']; warnings: Warning[] }> {
    this.expect('open', 'prepare');
    try {
      const installed = readAllRecords(this.prefix);
      const seen = new Set<string>();
      const removes: string[] = [];
      for (const job of jobs) {
        this.checkInterrupted();
        if (job.kind === 'remove') {
          const key = job.key.toLowerCase();
          if (!installed.has(key)) {
            throw new PkgError(ErrorCodes.NOT_INSTALLED, `${job.key} is not installed in ${this.prefix}`, {
              hint: 'see what is installed with egginst --list',
              details: { package: job.key },
            });
          }
          if (seen.has(key)) throw new PkgError(ErrorCodes.USAGE, `${job.key} is named twice`);
          seen.add(key);
          removes.push(key);
          continue;
        }
        // An egg the store has already opens from the listing kept with its entry (found by the
        // sha256 the caller vouches for, or as hashed here; a file that cannot be read is left to prepareEgg).
        const sha256 = job.sha256 ?? (this.opts.store ? digestOf(job.eggPath) : undefined);
        const kept = sha256 && this.opts.store ? this.storeEntry(sha256)?.manifest : undefined;
        const listing = kept?.archive;
        const egg = await prepareEgg({
          eggPath: job.eggPath,
          eggName: job.eggName ?? basename(job.eggPath),
          limits: this.limits,
          python: this.python,
          warn: (w) => this.warn(w),
          ...(listing ? { listing } : {}),
          ...(listing && kept?.layout ? { layout: kept.layout } : {}),
        });
        this.eggs.push(egg);
        this.digests.set(egg, sha256);
        if (seen.has(egg.meta.id.key))
          throw new PkgError(ErrorCodes.USAGE, `${egg.meta.id.name} is named twice in one transaction`, {
            details: { package: egg.meta.id.key },
          });
        seen.add(egg.meta.id.key);
      }
      // Enough files to link from the store for worker threads to share (tree-ops.ts): they start
      // now, on other cores, while this thread plans.
      if (this.opts.store && this.eggs.reduce((n, e) => n + e.archive.entries.length, 0) >= THREADED_OPS) this.ctx.threads!.start();
      this.plan = planFiles({ prefix: this.prefix, installs: this.eggs, removes, installed, force: !!this.opts.force });
      for (const w of this.plan.warnings) this.warn(w);
      this.staged = true;
      const store = await this.storeEntries(this.plan);
      this.step = 'staging';
      this.ctx.fs.mkdirSync(join(txnDir(this.prefix, this.id), 'b'), { recursive: true });
      const staged = await stagePlan({
        ...(store ? { store } : {}),
        threads: this.ctx.threads!,
        prefix: this.prefix,
        dir: txnDir(this.prefix, this.id),
        plan: this.plan,
        eggs: this.eggs,
        fs: this.ctx.fs,
        reporter: this.reporter,
        ...(this.opts.signal ? { signal: this.opts.signal } : {}),
      });
      this.ctx.unflushed = staged.unflushed;
      for (const [egg, record] of staged.records) this.records.set(egg.meta.id.key, record);
      const used = store?.linker.used();
      if (used) this.reporter.report({ type: 'info', message: `files linked from the store ${this.opts.store!.dir} by ${used}` });
      crashPoint('staged');
      this.state = 'prepared';
      return { changes: this.plan.changes, warnings: [...this.warnings] };
    } catch (e) {
      throw this.fail(e);
    }
  }

  /**
   * Check the free space (without a store: for every staged file). With a store: decide the link
   * mode, check the space the new store entries and the copied files need, then fill the entries the
   * store has not got yet; returns each egg's entry.
   */
  private async storeEntries(plan: FilePlan): Promise<StagePlanInput['store']> {
    const opts = this.opts.store;
    if (!opts) {
      checkSpace(this.ctx.fs, this.prefix, plan.bytesNeeded);
      return undefined;
    }
    this.step = 'filling the package store';
    const dir = this.openedStore();
    const linker = createLinker(opts.linkMode ?? defaultLinkMode(), { store: dir, prefix: this.prefix });
    this.ctx.fs.mkdirSync(txnDir(this.prefix, this.id), { recursive: true });
    const mode = linker.probe(txnDir(this.prefix, this.id));
    const eggs = this.eggs.map((egg) => ({
      egg,
      sha256: this.digests.get(egg) ?? hashFile(egg.eggPath),
      archive: egg.archive,
      eggName: egg.meta.eggName,
      layout: egg.keptLayout,
    }));
    const known = new Map<PreparedEgg, StoreEntry>();
    for (const e of eggs) {
      const entry = this.storeEntry(e.sha256);
      if (entry) known.set(e.egg, entry);
    }
    const inPrefix = plan.bytesNeeded - sharedBytes(plan, known, mode);
    const inStore = bytesToFill(eggs.filter((e) => !known.has(e.egg)));
    const together = sameFilesystem(dir, this.prefix);
    if (together) checkSpace(this.ctx.fs, this.prefix, inPrefix + inStore);
    else {
      checkSpace(this.ctx.fs, dir, inStore);
      checkSpace(this.ctx.fs, this.prefix, inPrefix);
    }
    const totals = new Map(eggs.map((e) => [e.eggName, { done: 0, total: e.archive.entries.reduce((n, a) => n + a.uncompressedSize, 0) }]));
    const entries = await fillEntries({
      store: dir,
      eggs,
      known: this.entries,
      durable: this.ctx.durable,
      onBytes: (egg, n) => {
        const t = totals.get(egg)!;
        t.done += n;
        this.reporter.report({ type: 'install', progress: { phase: 'stage', subject: egg, done: t.done, total: t.total, unit: 'bytes' } });
      },
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
    });
    // On one filesystem, directories move between the store's spares and the prefix (store.ts spareDirs).
    if (together)
      this.ctx.spare = () => {
        try {
          return spareSink(dir);
        } catch {
          return undefined;
        }
      };
    return { entries: new Map(eggs.map((e, i) => [e.egg, entries[i]!])), linker, spares: () => (together ? this.spares(dir) : []) };
  }

  /** The store's spare directories, for staging to take (none, if they cannot be listed). */
  private spares(store: string): string[] {
    try {
      return spareDirs(store);
    } catch {
      return [];
    }
  }

  /** The package store's directory, opened (and checked: no other user may write it) on first use. */
  private openedStore(): string {
    this.storeDir ??= openStore(this.opts.store!.dir);
    return this.storeDir;
  }

  /** The store's complete entry for an egg, read once per transaction (null: none yet). */
  private storeEntry(sha256: string): StoreEntry | null {
    const known = this.entries.get(sha256);
    if (known) return known;
    const entry = readEntry(this.openedStore(), sha256);
    if (entry) this.entries.set(sha256, entry);
    return entry;
  }

  private scriptRun(call: FilePlan['postInstall'][number], action: 'install' | 'remove'): ScriptRun {
    return {
      script: call.script,
      prefix: this.prefix,
      cwd: join(this.prefix, 'EGG-INFO', call.key),
      python: () => this.python.path(call.python),
      pkg: call.pkg,
      action,
      timeoutSeconds: this.opts.timeoutSeconds ?? DEFAULT_SCRIPT_TIMEOUT,
      onLine: (line) => this.reporter.report({ type: 'script-output', subject: call.pkg.name, line }),
      ...(this.opts.signal ? { signal: this.opts.signal } : {}),
    };
  }

  /** Pre-uninstall scripts, journal, renames, post-install scripts. On failure everything is rolled back. */
  async apply(): Promise<void> {
    this.expect('prepared', 'apply');
    const plan = this.plan!;
    const noScripts = this.opts.noScripts ?? false;
    try {
      this.step = 'running pre-uninstall scripts';
      if (!noScripts) {
        for (const call of plan.preUninstall) {
          this.checkInterrupted();
          this.reporter.report({
            type: 'install',
            progress: { phase: 'scripts', subject: `${call.pkg.name} pre-uninstall`, done: 0, total: 1, unit: 'steps' },
          });
          try {
            await runScript(this.scriptRun(call, 'remove'));
          } catch (e) {
            if (!this.opts.force) throw e;
            this.warn({
              code: WarningCodes.PRE_UNINSTALL_FAILED,
              message: `${(e as Error).message.split('\n')[0]} (continuing: --force)`,
              subject: call.key,
            });
          }
        }
      }
      this.checkInterrupted();
      this.journal = {
        version: 1,
        id: this.id,
        state: 'prepared',
        created: new Date().toISOString(),
        ops: plan.ops,
        prune: plan.prune,
        changes: plan.changes,
      };
      if (this.opts.payload !== undefined) this.journal.payload = this.opts.payload;
      this.step = 'writing the journal';
      writeJournal(this.ctx, this.journal);
      crashPoint('journaled');
      const total = plan.ops.length;
      this.step = 'moving files into place';
      applyOps(this.ctx, this.journal, (i) => {
        if (i % 256 === 0 || i === total - 1)
          this.reporter.report({ type: 'install', progress: { phase: 'apply', subject: this.id, done: i + 1, total, unit: 'files' } });
        this.checkInterrupted();
      });
      crashPoint('applied');
      this.step = 'running post-install scripts';
      if (!noScripts) {
        for (const call of plan.postInstall) {
          this.checkInterrupted();
          this.reporter.report({
            type: 'install',
            progress: { phase: 'scripts', subject: `${call.pkg.name} post-install`, done: 0, total: 1, unit: 'steps' },
          });
          await runScript(this.scriptRun(call, 'install'));
        }
      }
      crashPoint('post-install');
      this.state = 'applied';
    } catch (e) {
      throw this.fail(e);
    }
  }

  /**
   * The point of no return: mark the journal committed, then clean up. A failure to write the mark
   * rolls back; a failure of the cleanup after it is only a warning (the next run finishes it).
   * `during`, if given, runs once the mark is written, while other threads delete what the
   * transaction moved aside (the caller's own bookkeeping of the commit, say); whatever it throws is
   * thrown once the cleanup is done.
   */
  commit(during?: (committed: TransactionResult) => void): TransactionResult {
    this.expect('applied', 'commit');
    const j = this.journal!;
    this.step = 'marking the transaction committed';
    try {
      // An interrupt that came after the last step still wins: until the mark, everything can roll back.
      this.checkInterrupted();
      writeJournal(this.ctx, { ...j, state: 'committed' });
    } catch (e) {
      throw this.fail(e);
    }
    j.state = 'committed';
    crashPoint('committed');
    this.state = 'committed';
    this.reporter.report({ type: 'install', progress: { phase: 'cleanup', subject: this.id, done: 0, total: 1, unit: 'steps' } });
    // Committed is committed, whatever the cleanup (or a bug in it) does.
    const failedCleanup = (e: unknown): void => this.warn(cleanupFailed(this.ctx, this.id, e));
    let finish: (() => void) | undefined;
    try {
      finish = startCleanup(this.ctx, j);
    } catch (e) {
      failedCleanup(e);
    }
    const result = (): TransactionResult => ({
      id: this.id,
      changes: this.plan!.changes,
      warnings: [...this.warnings],
      records: this.records,
    });
    let thrown: { error: unknown } | undefined;
    try {
      during?.(result());
    } catch (e) {
      thrown = { error: e };
    }
    try {
      finish?.();
    } catch (e) {
      failedCleanup(e);
    }
    this.closeArchives();
    if (thrown) throw thrown.error;
    return result();
  }

  /** Roll back whatever was done. Safe to call in any state before commit; a no-op after. */
  async abort(): Promise<void> {
    this.rollback();
  }

  /**
   * Undo the renames and remove staging. A failing undo throws (ROLLBACK_FAILED from undoOps) and
   * leaves the journal for recovery; a directory that cannot be removed afterwards is a warning.
   */
  private rollback(): void {
    if (this.state === 'committed' || this.state === 'aborted') return;
    this.state = 'aborted';
    try {
      const rollbackWarnings: Warning[] = [];
      if (this.journal) undoOps(this.ctx, this.journal, rollbackWarnings);
      for (const w of rollbackWarnings) this.warn(w);
      if (this.staged || this.journal) {
        try {
          discard(this.ctx, this.id);
        } catch (e) {
          this.warn(leftover(this.ctx, this.id, e));
        }
      }
    } finally {
      this.closeArchives();
    }
  }

  /**
   * Roll back after the failure `e` and return what to throw: the failure as a PkgError (ENOSPC as
   * NO_SPACE with what is needed and free, after the rollback freed what it could; anything after an
   * interrupt as INTERRUPTED), or ROLLBACK_FAILED with it as the cause. A bug is rethrown as it is.
   */
  private fail(e: unknown): unknown {
    const step = this.step;
    const describe = (): unknown => {
      if (this.opts.signal?.aborted && !(isPkgError(e) && e.code === ErrorCodes.INTERRUPTED) && (isPkgError(e) || isSystemError(e)))
        return this.interrupted(e);
      return describeFailure(e, step, () => ({
        path: this.prefix,
        needed: this.plan?.bytesNeeded,
        available: freeBytes(this.ctx.fs, this.prefix),
      }));
    };
    try {
      this.rollback();
    } catch (undo) {
      if (!isPkgError(undo) && !isSystemError(undo)) return undo;
      return rollbackFailed(describe(), undo);
    }
    return describe();
  }

  private closeArchives(): void {
    for (const egg of this.eggs) {
      try {
        egg.archive.close();
      } catch {
        // already closed
      }
    }
    this.eggs = [];
  }

  /** Roll back if not committed, close archives, release the lock if this transaction took it. */
  async close(): Promise<void> {
    await this.abort();
    this.closeArchives();
    this.ctx.threads!.close();
    if (this.createdPrefix && this.state !== 'committed') {
      try {
        rmdirSync(this.prefix);
      } catch {
        // not empty
      }
    }
    if (this.ownsLock) await this.lock.release();
  }
}

/** Lock the prefix (unless the caller holds the lock), recover any unfinished transaction, and start a new one. */
export async function openTransaction(opts: TransactionOptions): Promise<EggTransaction> {
  let created = false;
  if (!existsSync(opts.prefix)) {
    try {
      mkdirSync(opts.prefix, { recursive: true });
      created = true;
    } catch (e) {
      throw new PkgError(ErrorCodes.PREFIX_INVALID, `cannot create the prefix ${opts.prefix}: ${(e as Error).message}`, { cause: e });
    }
  }
  let prefix: string;
  try {
    prefix = realpathSync(opts.prefix);
    accessSync(prefix, constants.W_OK);
  } catch (e) {
    throw new PkgError(ErrorCodes.PREFIX_INVALID, `the prefix ${opts.prefix} is not a writable directory: ${(e as Error).message}`, {
      cause: e,
      hint: 'check the path and its permissions',
    });
  }
  const lock =
    opts.lock ??
    (await lockPrefix(prefix, {
      wait: !!opts.wait,
      command: opts.command ?? 'egginst',
      onWait: (holder) => opts.reporter?.report({ type: 'lock-wait', prefix, holder }),
    }));
  try {
    return new EggTransaction(prefix, opts, lock, !opts.lock, created);
  } catch (e) {
    if (!opts.lock) await lock.release();
    throw e;
  }
}

/** Run jobs as one transaction: prepare, apply, commit. */
export async function runTransaction(
  jobs: EggJob[],
  opts: TransactionOptions,
): Promise<TransactionResult & { recovered: RecoveryOutcome[] }> {
  const tx = await openTransaction(opts);
  try {
    await tx.prepare(jobs);
    await tx.apply();
    return { ...tx.commit(), recovered: tx.recovered };
  } finally {
    await tx.close();
  }
}

/** The sha256 of a file, or undefined if it cannot be read (the error is told when it is opened). */
function digestOf(path: string): string | undefined {
  try {
    return hashFile(path);
  } catch {
    return undefined;
  }
}
