/**
 * The entry point of enpkg's bundle (`<version dir>/enpkg.js`): start checks, then the CLI.
 * Run from a source checkout, bin/enpkg.js calls the CLI directly.
 */
import { startChecks } from './start.js';

await startChecks();
const { main } = await import('../cli/main.js');
const code = await main(process.argv.slice(2));
process.exitCode = code;
// Interrupted: leave now, once the output is written, rather than wait for abandoned network requests.
if (code === 130) process.stderr.write('', () => process.stdout.write('', () => process.exit(code)));
