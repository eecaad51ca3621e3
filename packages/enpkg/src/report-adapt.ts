/**
 * The reporter as the lower layers take it today (egginst's method-style reporter, the repository
 * and fetch stages' warn/info): each built from the one `Reporter`, here and nowhere else.
 */
import type { Reporter as EgginstReporter } from 'egginst/core';
import type { FetchReporter } from './fetch/types.js';
import type { RepoReporter } from './repo/types.js';
import type { Reporter } from './report.js';

export function egginstReporter(r: Reporter | undefined): EgginstReporter | undefined {
  if (!r) return undefined;
  return {
    progress: (progress) => r.report({ type: 'install', progress }),
    warn: (warning) => r.report({ type: 'warning', warning }),
    info: (message) => r.report({ type: 'info', message }),
    scriptOutput: (subject, line) => r.report({ type: 'script-output', subject, line }),
  };
}

export function repoReporter(r: Reporter | undefined): RepoReporter | undefined {
  if (!r) return undefined;
  return { warn: (warning) => r.report({ type: 'warning', warning }), info: (message) => r.report({ type: 'info', message }) };
}

export function fetchReporter(r: Reporter | undefined): FetchReporter | undefined {
  if (!r) return undefined;
  return { ...repoReporter(r), fetchProgress: (progress) => r.report({ type: 'download', progress }) };
}
