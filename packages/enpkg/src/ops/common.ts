/**
 * What every operation shares: a session (the caller's, or one opened and closed here), the
 * warnings it reported (returned as data too), and interruption.
 */
import { ErrorCodes, PkgError, type Warning } from 'egginst/core';
import type { Reporter } from '../report.js';
import { openSession, type Session } from '../session.js';
import type { OperationOptions } from './types.js';

/** Run `body` in the caller's session, or in one opened for it (closed afterwards, whatever happens). */
export async function withSession<T>(opts: OperationOptions, body: (session: Session) => Promise<T> | T): Promise<T> {
  if (opts.session) return body(opts.session);
  const session = await openSession(opts.config, {
    wait: opts.wait === true,
    command: opts.command,
    ...(opts.reporter ? { reporter: opts.reporter } : {}),
  });
  try {
    return await body(session);
  } finally {
    await session.close();
  }
}

/** The caller's reporter, with every warning also kept for the operation's result. */
export function collecting(reporter: Reporter | undefined): { reporter: Reporter; warnings: Warning[] } {
  const warnings: Warning[] = [];
  return {
    warnings,
    reporter: {
      report(event) {
        if (event.type === 'warning') warnings.push(event.warning);
        reporter?.report(event);
      },
    },
  };
}

/** Throws INTERRUPTED when the operation's signal was aborted (between steps that take no signal). */
export function checkInterrupted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) {
    throw new PkgError(ErrorCodes.INTERRUPTED, 'interrupted: nothing was changed', { hint: 'run the command again' });
  }
}
