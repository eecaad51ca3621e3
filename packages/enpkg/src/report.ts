/**
 * The one reporting contract of enpkg's library: every operation sends what a user might see as
 * events to one `Reporter` (egginst's contract, over a superset of egginst's events), and only a
 * CLI's render module turns them into text. Types only: this module imports no implementation.
 *
 * Strings in events are raw (names and messages as they came from an index, an archive or a
 * configuration file): a renderer must escape them for a terminal; JSON output carries them as they are.
 */
import type { EgginstEvent, Reporter as ReporterOf } from 'egginst';
import type { FetchProgress } from './fetch/types.js';

export type ReportEvent =
  /** egginst's: warning, info, lock-wait, install (its stages and recovery), script-output. */
  | EgginstEvent
  /** Repository indexes are being read (fetched, verified, parsed): once before, once after. */
  | { readonly type: 'indexes'; readonly phase: 'start' | 'done'; readonly repositories: number }
  /** Downloads and verification of eggs: one event per change, with the totals. */
  | { readonly type: 'download'; readonly progress: FetchProgress }
  /** Downloads are over (every egg verified, or the fetch failed). */
  | { readonly type: 'download-done' }
  /** `repo index`: an egg of the repository directory read (`done` of `total`). */
  | { readonly type: 'publish'; readonly file: string; readonly done: number; readonly total: number };

export type ReportEventType = ReportEvent['type'];

/** Where library code sends everything a user might see. It must not throw. */
export type Reporter = ReporterOf<ReportEvent>;
