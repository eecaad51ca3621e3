/** The entry point of egginst in enpkg's bundle (`<version dir>/egginst.js`). */
import { main } from 'egginst/cli';

process.exitCode = await main(process.argv.slice(2));
