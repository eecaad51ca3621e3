/**
 * A session on a prefix: the configuration, the prefix lock (the same one egginst takes), the state
 * database, and the reconciliation that every enpkg run does first (recovery, unrecorded
 * transactions, drift). Commands that change or read installed state open one.
 */
import { mkdirSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { resolve } from 'node:path';
import { ErrorCodes, lockPrefix, PkgError, type PrefixLock } from 'egginst/core';
import { openIndexCache } from './index-cache.js';
import { EnpkgErrorCodes } from './errors.js';
import type { Reporter } from './report.js';
import type { EnpkgConfig, SerialStore } from './repo/types.js';
import { openState, type StateDb } from './state/db.js';
import { reconcile, type ReconcileResult } from './state/sync.js';

export interface Session {
  readonly prefix: string;
  readonly config: EnpkgConfig;
  readonly lock: PrefixLock;
  readonly state: StateDb;
  readonly reconciled: ReconcileResult;
  readonly user: string;
  /** Accepted index serials: the state database, and the user's index cache beside it. */
  readonly serials: SerialStore;
  close(): Promise<void>;
}

export interface SessionOptions {
  /** Wait for another enpkg or egginst instead of failing. */
  wait?: boolean;
  /** What this run is doing, told to whoever finds the prefix locked. */
  command: string;
  reporter?: Reporter;
}

export function requirePrefix(config: EnpkgConfig): string {
  if (!config.prefix) {
    throw new PkgError(EnpkgErrorCodes.NO_PREFIX, 'no prefix given', {
      hint: 'pass --prefix DIR, set ENPKG_PREFIX, or put "prefix:" in the configuration',
    });
  }
  return resolve(config.prefix);
}

/** The prefix as a directory: created when missing; anything else there is an error naming it. */
function ensurePrefixDir(prefix: string): void {
  try {
    mkdirSync(prefix, { recursive: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const what = code === 'EEXIST' || code === 'ENOTDIR' ? 'it is not a directory' : `it cannot be created (${code ?? String(e)})`;
    throw new PkgError(ErrorCodes.PREFIX_INVALID, `cannot use ${prefix} as the prefix: ${what}`, {
      hint: 'give a directory (or a path where one can be created) with --prefix',
      cause: e,
      details: { prefix },
    });
  }
  if (!statSync(prefix).isDirectory()) {
    throw new PkgError(ErrorCodes.PREFIX_INVALID, `cannot use ${prefix} as the prefix: it is not a directory`, {
      hint: 'give a directory with --prefix',
      details: { prefix },
    });
  }
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export async function openSession(config: EnpkgConfig, opts: SessionOptions): Promise<Session> {
  const prefix = requirePrefix(config);
  ensurePrefixDir(prefix);
  const lock = await lockPrefix(prefix, {
    wait: !!opts.wait,
    command: opts.command,
    onWait: (holder) => opts.reporter?.report({ type: 'lock-wait', prefix, holder }),
  });
  let state: StateDb | undefined;
  try {
    state = openState(prefix);
    const user = currentUser();
    const reconciled = reconcile(state, prefix, { user, ...(opts.reporter ? { reporter: opts.reporter } : {}) });
    const db = state;
    const files = openIndexCache(config.cacheDir).serials;
    const serials: SerialStore = {
      accepted: (repoId) => {
        const a = db.acceptedSerial(repoId);
        const b = files.accepted(repoId);
        return a === undefined ? b : b === null ? a : Math.max(a, b);
      },
      accept: (repoId, serial, repository) => {
        db.acceptSerial(repoId, serial);
        files.accept(repoId, serial, repository);
      },
    };
    return {
      prefix,
      config,
      lock,
      state,
      reconciled,
      user,
      serials,
      close: async () => {
        db.close();
        await lock.release();
      },
    };
  } catch (e) {
    state?.close();
    await lock.release();
    throw e;
  }
}
