#!/usr/bin/env -S node --max-semi-space-size=1 --heap-growing-percent=10
// A small young generation and a slowly growing heap keep peak memory low while thousands of files
// stream through (most of what planning allocates is garbage by the time files are written).
import { main } from '../dist/src/cli.js';
main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
