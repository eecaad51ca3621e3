/**
 * The one reporting contract of enpkg's library: every operation sends what a user might see as
 * events to one `Reporter`, and only a CLI's render module turns them into text. Types only: this
 * module imports no implementation.
 *
 * Strings in events are raw (names and messages as they came from an index, an archive or a
 * configuration file): a renderer must escape them for a terminal; JSON output carries them as they are.
 */
import type { ProgressEvent, Warning } from 'egginst';
import type { FetchProgress } from './fetch/types.js';

export type ReportEvent =
  /** Something the user should know; the operation goes on. */
  | { readonly type: 'warning'; readonly warning: Warning }
  /** Detail for `-v`. */
  | { readonly type: 'info'; readonly message: string }
  /** Another process holds the prefix and the operation waits for it (`--wait`). */
  | { readonly type: 'lock-wait'; readonly prefix: string; readonly holder: string }
  /** Repository indexes are being read (fetched, verified, parsed): once before, once after. */
  | { readonly type: 'indexes'; readonly phase: 'start' | 'done'; readonly repositories: number }
  /** Downloads and verification of eggs: one event per change, with the totals. */
  | { readonly type: 'download'; readonly progress: FetchProgress }
  /** Downloads are over (every egg verified, or the fetch failed). */
  | { readonly type: 'download-done' }
  /** egginst's stages: check, stage, apply, scripts, commit, cleanup, and recovery of a crash. */
  | { readonly type: 'install'; readonly progress: ProgressEvent }
  /** A line a package script printed (shown with `-v`). */
  | { readonly type: 'script-output'; readonly subject: string; readonly line: string };

export type ReportEventType = ReportEvent['type'];

/** Where library code sends everything a user might see. It must not throw. */
export interface Reporter {
  report(event: ReportEvent): void;
}
