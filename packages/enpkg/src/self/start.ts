/**
 * What a bundled enpkg does first when a launcher or a self-update asks: prove that it can run.
 *   ENPKG_SMOKE=1  the smoke run of a self-update, before the switch;
 *   ENPKG_TRIAL=1  the first start after a switch (launcher.ts): on success, clear `trial=`.
 * Both load the native addons and use them once, so that a version whose addons do not load on this
 * machine fails here, where something can still be done about it.
 */
import { PkgError } from 'egginst/core';
import { runningManifest } from './manifest.js';
import { readPointer, switchPointer, versionId } from './pointer.js';

async function probeAddons(): Promise<void> {
  const [{ default: Database }, { compressIndex, decompressIndex }] = await Promise.all([import('better-sqlite3'), import('../index/zstd.js')]);
  const db = new Database(':memory:');
  try {
    const row = db.prepare('SELECT 6 * 7 AS n').get() as { n: number };
    if (row.n !== 42) throw new PkgError('SELF_SMOKE_FAILED', 'SQLite gave a wrong answer');
  } finally {
    db.close();
  }
  const text = Buffer.from('enpkg smoke run '.repeat(64));
  if (!decompressIndex(compressIndex(text), { maxSize: 1 << 20, source: 'smoke run' }).equals(text)) throw new PkgError('SELF_SMOKE_FAILED', 'zstd did not round-trip');
}

export async function startChecks(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const smoke = env.ENPKG_SMOKE === '1';
  const trial = env.ENPKG_TRIAL === '1';
  if (!smoke && !trial) return;
  await probeAddons();
  if (!trial || !env.ENPKG_HOME) return;
  const me = runningManifest();
  const pointer = readPointer(env.ENPKG_HOME);
  if (!me || !pointer || pointer.trial !== versionId(me.version, me.build)) return;
  switchPointer(env.ENPKG_HOME, { ...pointer, trial: null });
}
