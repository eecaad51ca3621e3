/**
 * The error and warning codes are closed and stable: test/snapshots/codes.txt lists every one. A code
 * may be added (to its package's codes.ts and to the list), never renamed or removed. And every
 * PkgError and warning in the sources takes its code from those modules, never from a string literal
 * (an errno such as `EFBIG` on a plain Error is not a code of ours).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ErrorCodes, WarningCodes } from 'egginst';
import { EnpkgErrorCodes, EnpkgWarningCodes, FetchErrorCodes, FetchWarningCodes, RepoErrorCodes, RepoWarningCodes } from 'enpkg';
import { repoRoot } from './helpers/index.js';

const sets: Record<string, Record<string, string>> = {
  'egginst error': ErrorCodes,
  'egginst warning': WarningCodes,
  'enpkg error': { ...EnpkgErrorCodes, ...RepoErrorCodes, ...FetchErrorCodes },
  'enpkg warning': { ...EnpkgWarningCodes, ...RepoWarningCodes, ...FetchWarningCodes },
};

test('every code of the list still exists, and every code is in the list', () => {
  const now = new Set<string>();
  for (const [kind, codes] of Object.entries(sets)) {
    for (const [key, value] of Object.entries(codes)) {
      assert.equal(key, value, `${kind} ${key}: a code's name is its value`);
      now.add(`${kind} ${value}`);
    }
  }
  const listed = readFileSync(join(repoRoot, 'test', 'snapshots', 'codes.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'));
  const removed = listed.filter((l) => !now.has(l));
  assert.deepEqual(removed, [], 'codes are never renamed or removed');
  const added = [...now].filter((l) => !listed.includes(l));
  assert.deepEqual(added, [], 'a new code goes into test/snapshots/codes.txt too');
});

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => join(e.parentPath, e.name));
}

test('no PkgError or warning takes its code from a string literal', () => {
  const offenders: string[] = [];
  for (const pkg of ['egginst', 'enpkg']) {
    for (const file of sources(join(repoRoot, 'packages', pkg, 'src'))) {
      if (file.endsWith('codes.ts')) continue;
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new PkgError\(\s*['"`]|\bcode: ['"`][A-Z]+_[A-Z_]+['"`]/g)) {
        const line = text.slice(0, m.index).split('\n').length;
        offenders.push(`${file.slice(repoRoot.length + 1)}:${line}: ${m[0].replace(/\s+/g, ' ')}`);
      }
    }
  }
  assert.deepEqual(offenders, []);
});
