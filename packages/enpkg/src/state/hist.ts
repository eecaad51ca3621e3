/**
 * Enstaller's history file, `<prefix>/enpkg.hist`: a full snapshot, then one block of `-`/`+` diffs
 * per change, each under a `==> <time> <==` header. Read once, on enpkg's first run in a prefix; when
 * the prefix has one, it is written again from the state database after every revision, one block
 * per revision, so that block N is revision N for Enstaller's tools too.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseEggName, type Change, type Reporter, writeFileDurably } from 'egginst/core';
import { EnpkgErrorCodes, EnpkgWarningCodes, PkgError } from '../errors.js';
import type { Revision } from './types.js';

export const HIST_FILE = 'enpkg.hist';

/**
 * A revision's time as Enstaller wrote it (`2011-08-01 21:17:22 CDT`): ours are ISO times in UTC
 * (`...T...Z`), shown as `YYYY-MM-DD HH:MM:SS UTC`; an imported one is kept as it was written.
 */
export function histTime(time: string): string {
  const iso = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(?:\.\d+)?Z$/.exec(time);
  return iso ? `${iso[1]} ${iso[2]} UTC` : time;
}

/** The file's text: revision 0's full set, then each revision's `-`/`+` lines against the one before. */
export function formatHistFile(revisions: readonly Revision[]): string {
  const out: string[] = [];
  let previous: readonly string[] | null = null;
  for (const r of revisions) {
    out.push(`==> ${histTime(r.time)} <==`);
    if (previous === null) out.push(...r.installed);
    else {
      const before = new Set(previous);
      const after = new Set(r.installed);
      for (const e of previous) if (!after.has(e)) out.push(`-${e}`);
      for (const e of r.installed) if (!before.has(e)) out.push(`+${e}`);
    }
    previous = r.installed;
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

/**
 * Keep `<prefix>/enpkg.hist` up to date, when the prefix has one (Enstaller's tools read it). After
 * the state database committed: a failure here is a warning, never a reason to undo anything.
 */
export function syncHistFile(prefix: string, revisions: () => readonly Revision[], reporter?: Reporter): void {
  const file = join(prefix, HIST_FILE);
  if (!existsSync(file)) return;
  try {
    writeFileDurably(file, formatHistFile(revisions()));
  } catch (e) {
    reporter?.report({
      type: 'warning',
      warning: {
        code: EnpkgWarningCodes.HISTORY_FILE_NOT_WRITTEN,
        message:
          `${file} could not be brought up to date (${(e as NodeJS.ErrnoException).code ?? String(e)}); ` +
          'the state database has the history',
        subject: file,
      },
    });
  }
}

export interface HistRevision {
  /** The header's time, as written (Enstaller wrote local time with a zone name). */
  time: string;
  /** The full installed set after this block, sorted egg names. */
  installed: string[];
  changes: Change[];
}

function changeOf(kind: 'install' | 'remove', eggName: string, source: string, line: number): Change {
  const id = parseEggName(eggName);
  if (!id)
    throw new PkgError(EnpkgErrorCodes.HISTORY_INVALID, `${source} line ${line}: ${JSON.stringify(eggName)} is not an egg file name`, {
      hint: 'fix or move the file aside; enpkg imports it only once',
    });
  return { kind, key: id.key, name: id.name, version: id.version, build: id.build, eggName };
}

export function parseHist(text: string, source = 'enpkg.hist'): HistRevision[] {
  const out: HistRevision[] = [];
  let current: Set<string> | null = null;
  let block: HistRevision | null = null;
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    const header = /^==>\s*(.*?)\s*<==/.exec(line);
    if (header) {
      if (block) out.push({ ...block, installed: [...current!].sort() });
      block = { time: header[1]!, installed: [], changes: [] };
      current = out.length === 0 && current === null ? new Set() : new Set(current);
      return;
    }
    if (!block || !current)
      throw new PkgError(EnpkgErrorCodes.HISTORY_INVALID, `${source} line ${i + 1}: expected a "==> time <==" header first`, {
        hint: 'fix or move the file aside',
      });
    const set: Set<string> = current;
    const b: HistRevision = block;
    if (out.length === 0 && !/^[+-]/.test(line)) {
      b.changes.push(changeOf('install', line, source, i + 1));
      set.add(line);
    } else if (line.startsWith('+')) {
      b.changes.push(changeOf('install', line.slice(1), source, i + 1));
      set.add(line.slice(1));
    } else if (line.startsWith('-')) {
      b.changes.push(changeOf('remove', line.slice(1), source, i + 1));
      set.delete(line.slice(1));
    } else
      throw new PkgError(
        EnpkgErrorCodes.HISTORY_INVALID,
        `${source} line ${i + 1}: expected "+egg" or "-egg", found ${JSON.stringify(line)}`,
        {
          hint: 'fix or move the file aside',
        },
      );
  });
  if (block) out.push({ ...(block as HistRevision), installed: [...current!].sort() });
  return out;
}
