/**
 * The one progress stream of a fetch: per-egg byte counts folded into overall totals, each event
 * carrying both (see FetchProgress). Bytes are those fetched or re-verified; eggs found in the cache
 * count as done at once and add no bytes.
 */
import type { Reporter } from '../report.js';
import type { EggFetchState, FetchProgress } from './types.js';

export interface TrackedEgg {
  readonly key: string;
  readonly eggName: string;
  readonly repository: string;
  readonly size: number;
}

export interface Tracker {
  /** Found in the cache without work. */
  cached(egg: TrackedEgg): void;
  /** Work begins on an egg: hashing a cached copy, or fetching it. Adds its size to the total. */
  start(egg: TrackedEgg, state: 'verifying' | 'fetching'): void;
  bytes(egg: TrackedEgg, n: number): void;
  /** An attempt starts over: the egg's bytes so far no longer count. */
  restart(egg: TrackedEgg): void;
  end(egg: TrackedEgg, state: 'done' | 'cached' | 'failed'): void;
  /** The overall totals, as in the last event. */
  totals(): FetchProgress['overall'];
}

export function createTracker(reporter: Reporter | undefined, eggsTotal: number): Tracker {
  const emit = reporter ? (progress: FetchProgress) => reporter.report({ type: 'download', progress }) : undefined;
  const done = new Map<TrackedEgg, number>();
  const overall = { bytesDone: 0, bytesTotal: 0, eggsDone: 0, eggsTotal, cached: 0, active: 0 };
  const state = new Map<TrackedEgg, EggFetchState>();
  const send = (egg: TrackedEgg, s: EggFetchState): void => {
    state.set(egg, s);
    emit?.({
      egg: { key: egg.key, eggName: egg.eggName, repository: egg.repository, state: s, done: done.get(egg) ?? 0, total: egg.size },
      overall: { ...overall },
    });
  };
  return {
    cached(egg) {
      overall.eggsDone++;
      overall.cached++;
      done.set(egg, egg.size);
      send(egg, 'cached');
    },
    start(egg, s) {
      if (state.get(egg) !== 'verifying') overall.active++;
      overall.bytesTotal += egg.size;
      done.set(egg, 0);
      send(egg, s);
    },
    bytes(egg, n) {
      done.set(egg, (done.get(egg) ?? 0) + n);
      overall.bytesDone += n;
      if (emit) send(egg, state.get(egg) ?? 'fetching');
    },
    restart(egg) {
      const so = done.get(egg) ?? 0;
      if (so === 0) return;
      overall.bytesDone -= so;
      done.set(egg, 0);
      send(egg, 'restarted');
      state.set(egg, 'fetching');
    },
    end(egg, s) {
      overall.active--;
      if (s !== 'failed') overall.eggsDone++;
      if (s === 'cached') overall.cached++;
      send(egg, s);
    },
    totals: () => ({ ...overall }),
  };
}
