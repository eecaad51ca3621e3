/**
 * Self-updates in the history: each switch of the pointer is a revision of kind `self-update` whose
 * one change is enpkg's (`install` for a bootstrap, `update` for a switch). The packages table never
 * holds enpkg, so revert leaves it alone. The pointer is the truth: a switch a crash left unrecorded,
 * or a launcher's return to the previous version, is recorded by the next run (reconcileSelf).
 */
import type { Change } from 'egginst/core';
import type { StateDb } from '../state/db.js';
import { readPointer, splitVersionId } from './pointer.js';

const eggOf = (id: string): { version: string; build: number; eggName: string } => ({ ...splitVersionId(id), eggName: `enpkg-${id}.egg` });

/** The version of enpkg the newest self-update revision switched to; null if none was recorded. */
export function recordedSelf(state: StateDb): string | null {
  const r = state.latestRevisionOfKind('self-update');
  const c = r?.changes.find((x) => x.key === 'enpkg');
  if (!c || c.kind === 'remove') return null;
  return c.kind === 'install' ? `${c.version}-${c.build}` : `${c.to.version}-${c.to.build}`;
}

export function recordSelfChange(state: StateDb, input: { from: string | null; to: string; command: string; user: string }): number {
  const to = eggOf(input.to);
  const change: Change = input.from
    ? { kind: 'update', key: 'enpkg', name: 'enpkg', from: eggOf(input.from), to }
    : { kind: 'install', key: 'enpkg', name: 'enpkg', ...to };
  return state.commit({ kind: 'self-update', command: input.command, user: input.user, changes: [change], put: [], remove: [] });
}

/** Record a switch the history does not have yet. Returns the revision, or null when all was recorded. */
export function reconcileSelf(state: StateDb, home: string, user: string): number | null {
  const pointer = readPointer(home);
  if (!pointer) return null;
  const recorded = recordedSelf(state);
  if (recorded === pointer.current) return null;
  const fellBack = recorded !== null && pointer.failed.includes(recorded);
  const command = fellBack
    ? `(enpkg ${recorded} failed to start; the launcher went back to ${pointer.current})`
    : `(enpkg ${pointer.current}: a switch recorded after an interruption)`;
  return recordSelfChange(state, { from: recorded, to: pointer.current, command, user });
}
