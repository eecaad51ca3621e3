/**
 * enpkg's own update, esky's way: the new version goes into its own directory beside the running
 * one, is smoke-run, and becomes current by one atomic rename of the pointer; the previous version is
 * kept, older ones removed. Everything happens under the prefix lock of the prefix enpkg lives in
 * (its "home"), inside a session, so the switch is recorded in that prefix's history.
 *
 * Crash safety, step by step (crash.ts names each point): until the pointer's rename, the running
 * version is untouched and what was written is a leftover the next self-update removes; after it, the
 * new version runs (on trial), and the next run records the switch if the crash came before that.
 */
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { PkgError } from 'egginst/core';
import { crashPoint } from '../crash.js';
import type { Session } from '../session.js';
import { recordSelfChange } from './history.js';
import { checkEgg, cleanVersions, placeVersion, smokeRun } from './install.js';
import { writeLaunchers } from './launcher.js';
import { parseManifest, type Manifest } from './manifest.js';
import { readPointer, switchPointer, versionDir, type Pointer } from './pointer.js';
import { EnpkgErrorCodes } from '../errors.js';

export interface SelfResult {
  from: string | null;
  to: string;
  revision: number;
  /** Version directories (and crash leftovers) removed. */
  removed: string[];
}

/** The pointer of the enpkg that lives in `home`, or an error that says how to get one there. */
export function requirePointer(home: string): Pointer {
  const p = readPointer(home);
  if (!p) {
    throw new PkgError(EnpkgErrorCodes.SELF_NOT_BOOTSTRAPPED, `no enpkg is bootstrapped in ${home}`, {
      hint: `run enpkg bootstrap --prefix ${home} first (self-update works on an enpkg that lives in a prefix)`,
    });
  }
  return p;
}

/** Put the egg's version beside the current one, smoke-run it, and switch to it. */
export async function installSelf(session: Session, egg: { path: string; eggName: string }, command: string): Promise<SelfResult> {
  const home = session.prefix;
  const from = readPointer(home);
  const checked = await checkEgg(egg.path, egg.eggName);
  let dir: string;
  try {
    if (from && checked.id === from.current)
      throw new PkgError(EnpkgErrorCodes.INTERNAL, `enpkg ${checked.id} is already the current version`);
    dir = await placeVersion(home, checked, from?.current ?? null);
  } finally {
    checked.archive.close();
  }
  try {
    smokeRun(home, dir, checked.manifest);
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  crashPoint('self-smoked');
  return switchTo(session, from, checked.id, command);
}

/** The kept previous version to go back to, or an error saying there is none. */
export function previousVersion(home: string, p: Pointer): string {
  if (!p.previous || !existsSync(versionDir(home, p.previous))) {
    throw new PkgError(EnpkgErrorCodes.SELF_NO_PREVIOUS, `there is no previous version of enpkg to go back to in ${home}`, {
      hint: 'name a version with enpkg self-update --version V',
    });
  }
  return p.previous;
}

/** `self-update --rollback`: the previous version, kept beside the current one, becomes current again. */
export async function rollbackSelf(session: Session, command: string): Promise<SelfResult> {
  const home = session.prefix;
  const from = requirePointer(home);
  const to = previousVersion(home, from);
  const dir = versionDir(home, to);
  smokeRun(home, dir, readManifest(dir));
  crashPoint('self-smoked');
  return switchTo(session, from, to, command);
}

function readManifest(dir: string): Manifest {
  const path = join(dir, 'manifest.json');
  try {
    return parseManifest(readFileSync(path, 'utf8'), path);
  } catch (e) {
    if (e instanceof PkgError) throw e;
    throw new PkgError(EnpkgErrorCodes.SELF_EGG_INVALID, `cannot read ${path}: ${(e as Error).message}`, {
      hint: 'install that version again with enpkg self-update --version V',
    });
  }
}

/**
 * The switch: one rename of the pointer, then the history row, the launchers and the cleanup. With a
 * version to go back to, the new one is on trial until its first start succeeds.
 */
function switchTo(session: Session, from: Pointer | null, to: string, command: string): SelfResult {
  const home = session.prefix;
  const next: Pointer = from
    ? { current: to, previous: from.current, trial: to, failed: from.failed.filter((f) => f !== to) }
    : { current: to, previous: null, trial: null, failed: [] };
  switchPointer(home, next, () => crashPoint('self-pointer-written'));
  crashPoint('self-switched');
  const revision = recordSelfChange(session.state, { from: from?.current ?? null, to, command, user: session.user });
  crashPoint('self-recorded');
  writeLaunchers(home, process.execPath);
  const removed = cleanVersions(home, [next.current, next.previous]);
  return { from: from?.current ?? null, to, revision, removed };
}
