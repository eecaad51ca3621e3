/**
 * `npm run bench`: runs every `bench/*.bench.ts` (compiled to `bench/dist/*.bench.js`) in its own
 * process, one after another, so that one benchmark's heap does not skew another's figures.
 * `npm run bench -- NAME` runs only the benchmarks whose file name contains NAME.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const filter = process.argv[2];
const benches = readdirSync(here)
  .filter((f) => f.endsWith('.bench.js'))
  .filter((f) => !filter || f.includes(filter))
  .sort();
let failed = 0;
for (const file of benches) {
  process.stdout.write(`\n=== ${file.replace(/\.bench\.js$/, '')} ===\n`);
  const r = spawnSync(process.execPath, ['--expose-gc', join(here, file)], { stdio: 'inherit' });
  if (r.status !== 0) {
    failed++;
    process.stdout.write(`benchmark ${file} failed (exit ${r.status ?? r.signal})\n`);
  }
}
process.exitCode = failed ? 1 : 0;
