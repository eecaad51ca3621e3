#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Interrupted: leave now, once the output is written, rather than wait for abandoned network requests.
if (code === 130) process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));
