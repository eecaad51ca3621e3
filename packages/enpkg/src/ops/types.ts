/**
 * Contract types of enpkg's operations (install, remove, update, revert, self-update, bootstrap and
 * the queries): each is a function of one options object and returns plain data. Types only.
 */
import type { Warning } from 'egginst';
import type { EnpkgConfig } from '../repo/types.js';
import type { Reporter } from '../report.js';
import type { Session } from '../session.js';
import type { ChangePlan } from '../types.js';

/** What an operation asks before it changes anything. */
export type Question =
  | {
      readonly kind: 'transaction';
      readonly prefix: string;
      readonly plan: ChangePlan;
      /**
       * A removal's packages that were not named (dependents, dependencies left unneeded), as
       * `name version-build`: a caller that cannot ask should refuse rather than answer yes.
       */
      readonly unnamedRemovals?: readonly string[];
    }
  | { readonly kind: 'self-update'; readonly from: string; readonly to: string; readonly downgrade: boolean; readonly repository: string }
  | { readonly kind: 'self-rollback'; readonly from: string; readonly to: string }
  | { readonly kind: 'autoupdate'; readonly from: string; readonly to: string };

/** Answers a question: true goes on, false changes nothing. Absent: every question is answered yes. */
export type Confirm = (question: Question) => Promise<boolean>;

export interface OperationOptions {
  /** The effective configuration (loadConfig): prefix, repositories, cache, network. */
  readonly config: EnpkgConfig;
  /** An open session on the prefix, when the caller holds one; otherwise the operation opens its own. */
  readonly session?: Session;
  /** What the run is, as history records it and a waiting process is told (`enpkg install app`). */
  readonly command: string;
  readonly reporter?: Reporter;
  /** Aborting it stops the operation (downloads, staging, scripts) and rolls back: an INTERRUPTED error. */
  readonly signal?: AbortSignal;
  readonly confirm?: Confirm;
  /** The time written into history (default: now, or SOURCE_DATE_EPOCH). */
  readonly clock?: () => Date;
  /** Wait for another enpkg or egginst working on the prefix instead of failing. */
  readonly wait?: boolean;
  /** Use cached indexes and eggs only. */
  readonly offline?: boolean;
}

export interface ChangeOptions extends OperationOptions {
  /** Plan only: nothing is fetched or changed. */
  readonly dryRun?: boolean;
  readonly noScripts?: boolean;
}

export interface InstallOptions extends ChangeOptions {
  /** Requirements: `numpy`, `numpy-1.8.0`, `numpy 1.8.0-1`, `numpy >= 1.8, < 2`. */
  readonly requirements: readonly string[];
  /** The named packages only, without their dependencies. */
  readonly noDeps?: boolean;
  /** Install again what is already installed: the named packages, or everything in the result. */
  readonly reinstall?: 'named' | 'all';
}

export interface RemoveOptions extends ChangeOptions {
  readonly names: readonly string[];
  /** The named packages only: what depends on them and what becomes unneeded stays. */
  readonly noDeps?: boolean;
  /** With noDeps: remove them even when packages that stay need them (the plan names what breaks). */
  readonly force?: boolean;
}

export type UpdateOptions = ChangeOptions & {
  readonly noDeps?: boolean;
  readonly reinstall?: 'named' | 'all';
  /** Fail, with the reasons, when an update target cannot reach its newest version (default: hold it back). */
  readonly strict?: boolean;
} & ({ readonly names: readonly string[]; readonly all?: false } | { readonly all: true });

export interface RevertOptions extends ChangeOptions {
  /** The revision whose installed set to restore (see history). */
  readonly revision: number;
}

/** What a changing operation did (or, with dryRun, would do). */
export interface ChangeResult {
  readonly prefix: string;
  readonly plan: ChangePlan;
  /** The revision recorded, or null when nothing changed. */
  readonly revision: number | null;
  /**
   * What happened: `done` (changed, or nothing to change), `dry-run` (planned only), `declined` (the
   * confirm callback said no: nothing changed), `already-installed` (every named package was
   * installed and satisfied; no index was read).
   */
  readonly outcome: 'done' | 'dry-run' | 'declined' | 'already-installed';
  /** With `already-installed`: the packages as `name version-build`. */
  readonly satisfied: readonly string[];
  readonly warnings: readonly Warning[];
}
