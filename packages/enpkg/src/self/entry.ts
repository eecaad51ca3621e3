/**
 * The entry point of enpkg's bundle (`<version dir>/enpkg.js`): start checks, then the CLI.
 * Run from a source checkout, bin/enpkg.js calls the CLI directly.
 */
import { startChecks } from './start.js';

await startChecks();
const { main } = await import('../cli/main.js');
process.exitCode = await main(process.argv.slice(2));
