export * from './paths.js';
export * from './run.js';
export * from './tmp.js';
export * from './tree.js';
export * from './zip.js';
export * from './enpkg.js';
export * from './snapshot.js';
