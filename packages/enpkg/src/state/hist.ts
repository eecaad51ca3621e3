/**
 * Enstaller's history file, `<prefix>/enpkg.hist`: a full snapshot, then one block of `-`/`+` diffs
 * per change, each under a `==> <time> <==` header. Read once, on enpkg's first run in a prefix.
 */
import { parseEggName, type Change } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';

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
