#!/usr/bin/env node
// The project rule: no source line over 140 characters. Biome formats code to that width but cannot break long strings, template
// literals, regular expressions or comments, so this checks every git-tracked .ts, .mjs and .js file and names each line that is
// too long as `path:line: N characters`. Exit status 1 if there is any, 0 otherwise.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const LIMIT = 140;
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const skipped = (path) => {
  const parts = path.split('/');
  return parts.includes('node_modules') || parts.includes('dist') || path.startsWith('fixtures/build/');
};

const files = execFileSync('git', ['ls-files', '-z', '--', '*.ts', '*.mjs', '*.js'], {
  cwd: root,
  encoding: 'utf8',
  maxBuffer: 64 * 2 ** 20,
})
  .split('\0')
  .filter((path) => path !== '' && /\.(ts|mjs|js)$/.test(path) && !skipped(path));

let long = 0;
let affected = 0;
for (const path of files) {
  let text;
  try {
    text = readFileSync(join(root, path), 'utf8');
  } catch (error) {
    // Tracked but deleted in the work tree: nothing to check.
    if (error.code === 'ENOENT') continue;
    throw error;
  }
  let found = false;
  text.split(/\r?\n/).forEach((line, index) => {
    // Characters, not UTF-16 code units: an emoji or other astral character counts once.
    const length = [...line].length;
    if (length > LIMIT) {
      console.log(`${path}:${index + 1}: ${length} characters`);
      long++;
      found = true;
    }
  });
  if (found) affected++;
}

if (long > 0) {
  console.log(`${long} line${long === 1 ? '' : 's'} over ${LIMIT} characters in ${affected} file${affected === 1 ? '' : 's'}`);
  process.exit(1);
}
console.log(`no line over ${LIMIT} characters in ${files.length} files`);
