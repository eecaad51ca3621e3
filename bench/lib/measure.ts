/** Small timing helpers shared by the benchmarks. */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
/** GNU time (Debian package `time`), for peak RSS; without it only times are printed. */
export const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;

export interface Run {
  seconds: number;
  /** Peak RSS in MiB, when measured with GNU time (see `timedRss`). */
  rssMiB?: number;
}

/** Run a command once; throw with its output if it fails. */
export function timed(cmd: string, args: string[], opts: SpawnSyncOptions = {}): Run {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}):\n${String(r.stderr).slice(-2000)}`);
  const m = /maxrss (\d+)\s*$/.exec(String(r.stderr));
  return m ? { seconds, rssMiB: Number(m[1]) / 1024 } : { seconds };
}

/** Like `timed`, wrapped in GNU time when present so that the peak RSS is measured too. */
export function timedRss(cmd: string, args: string[], opts: SpawnSyncOptions = {}): Run {
  return GNU_TIME ? timed(GNU_TIME, ['-f', 'maxrss %M', cmd, ...args], opts) : timed(cmd, args, opts);
}

/** An enpkg run's environment isolated in `work`: home, config and cache there; no config file or prefix from the caller. */
export function isolatedEnv(work: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    HOME: work,
    XDG_CONFIG_HOME: join(work, 'xdg-config'),
    XDG_CACHE_HOME: join(work, 'xdg-cache'),
    ENPKG_CONFIG: '',
    ENPKG_PREFIX: '',
  };
}

/** The median; of an even count, the mean of the two middle values (not the larger one). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export const fmt = (n: number, digits = 2): string => n.toFixed(digits);
