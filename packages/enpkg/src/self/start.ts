/**
 * What a bundled enpkg does first when a launcher or a self-update asks: prove that it can run.
 *   ENPKG_SMOKE=1  the smoke run of a self-update, before the switch;
 *   ENPKG_TRIAL=1  the first start after a switch (launcher.ts): on success, create `started` in
 *                  this version's directory, which ends its trial.
 * Both load the native addons and use them once, so that a version whose addons do not load on this
 * machine fails here, where something can still be done about it.
 */
import { writeFileSync } from 'node:fs';
import { PkgError } from 'egginst/core';
import { runningManifest } from './manifest.js';
import { STARTED_FILE } from './pointer.js';
import { EnpkgErrorCodes } from '../errors.js';

async function probeAddons(): Promise<void> {
  const [{ default: Database }, { compressIndex, decompressIndex }] = await Promise.all([
    import('better-sqlite3'),
    import('../repodata/zstd.js'),
  ]);
  const db = new Database(':memory:');
  try {
    const row = db.prepare('SELECT 6 * 7 AS n').get() as { n: number };
    if (row.n !== 42) throw new PkgError(EnpkgErrorCodes.SELF_SMOKE_FAILED, 'SQLite gave a wrong answer');
  } finally {
    db.close();
  }
  const text = Buffer.from('enpkg smoke run '.repeat(64));
  if (!decompressIndex(compressIndex(text), { maxSize: 1 << 20, source: 'smoke run' }).equals(text))
    throw new PkgError(EnpkgErrorCodes.SELF_SMOKE_FAILED, 'zstd did not round-trip');
}

export async function startChecks(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const smoke = env.ENPKG_SMOKE === '1';
  const trial = env.ENPKG_TRIAL === '1';
  if (!smoke && !trial) return;
  await probeAddons();
  // Confirm with a file in this version's own directory: never a write to the pointer, which only a
  // self-update under the prefix lock (or the launcher, going back) replaces.
  if (trial && runningManifest()) writeFileSync(new URL(`./${STARTED_FILE}`, import.meta.url), `${new Date().toISOString()}\n`);
}
