/** The reporter of a caller that wants to hear nothing. */
import type { Reporter } from './types.js';

export const NO_REPORTER: Reporter = { report() {} };
