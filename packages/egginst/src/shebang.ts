/**
 * The `#!` line of a script run by the prefix's Python (pure): written at the top of entry-point
 * scripts, and put in place of the python shebang of an egg's own scripts. docs/binary-eggs.md.
 */

/** Longest `#!` line a kernel reads whole (Linux before 5.1: 127 bytes). */
const MAX_SHEBANG = 127;

/**
 * `#!<python>`; when the path has whitespace or is too long for the kernel, a `/bin/sh`
 * trampoline that both sh and Python read correctly (sh execs the interpreter; to Python the
 * second and third lines are a string literal).
 */
export function shebangLines(python: string, args = ''): string {
  const line = `#!${python}${args ? ` ${args}` : ''}`;
  if (!/\s/.test(python) && Buffer.byteLength(line) <= MAX_SHEBANG) return `${line}\n`;
  const quote = (s: string): string => `'${s.replace(/'/g, `'"'"'`)}'`;
  const argv = args ? ` ${args.split(/\s+/).map(quote).join(' ')}` : '';
  return `#!/bin/sh\n'''exec' ${quote(python)}${argv} "$0" "$@"\n' '''\n`;
}

const PYTHON_NAME = /^python[\d.]*$/;

/**
 * The script with its first line replaced by the shebang of `python()` (asked only then) when that line is `#!`
 * naming a Python (`/usr/bin/python2.7 -u`, `/usr/bin/env python`); the interpreter's own
 * arguments are kept. Null when the script is not a Python script.
 */
export function rewriteShebang(content: Buffer, python: () => string): Buffer | null {
  if (content.length < 2 || content[0] !== 0x23 || content[1] !== 0x21) return null;
  let end = content.indexOf(0x0a);
  if (end < 0) end = content.length;
  const first = content.subarray(2, end).toString('latin1').replace(/\r$/, '');
  const words = first.trim().split(/\s+/);
  const base = (w: string | undefined): string => (w ?? '').slice((w ?? '').lastIndexOf('/') + 1);
  let args: string[];
  if (PYTHON_NAME.test(base(words[0]))) args = words.slice(1);
  else if (base(words[0]) === 'env' && PYTHON_NAME.test(words[1] ?? '')) args = words.slice(2);
  else return null;
  const rest = content.subarray(Math.min(end + 1, content.length));
  return Buffer.concat([Buffer.from(shebangLines(python(), args.join(' ')), 'utf8'), rest]);
}
