/**
 * Snapshot files: `test/snapshots/<name>` holds the expected text, compared exactly. Run the tests
 * with UPDATE_SNAPSHOTS=1 to write them anew (then read the diff before committing it).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { repoRoot } from './paths.js';

export function matchSnapshot(name: string, actual: string): void {
  const file = join(repoRoot, 'test', 'snapshots', name);
  if (process.env.UPDATE_SNAPSHOTS === '1' || !existsSync(file)) {
    if (process.env.CI === 'true' && !existsSync(file)) assert.fail(`snapshot ${file} is missing: run the tests with UPDATE_SNAPSHOTS=1`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  assert.equal(actual, readFileSync(file, 'utf8'), `differs from ${file} (UPDATE_SNAPSHOTS=1 writes it anew)`);
}
