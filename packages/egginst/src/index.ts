/**
 * egginst's public library API. enpkg uses only what is exported here.
 */
export * from './errors.js';
export type * from './types.js';
