#!/usr/bin/env -S node --max-semi-space-size=2
// A small young generation keeps peak memory low while thousands of files stream through.
import { main } from '../dist/src/cli.js';
main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
