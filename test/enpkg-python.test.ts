/**
 * enpkg and the prefix's Python: with no `python:` configured, only packages for the X.Y of the
 * prefix's interpreter are offered; `--python` and `python_executable` reach egginst (shebangs).
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setup } from './helpers/index.js';

const EGGS = ['app-1.0.0-1', 'libfoo-1.0.0-1', 'libbar-2.0-1'];

/** An executable that says it is Python X.Y when asked (and runs nothing else). */
function fakePython(path: string, version: string): string {
  writeFileSync(path, `#!/bin/sh\necho ${version}\n`, { mode: 0o755 });
  return path;
}

test('with no python: configured, a prefix whose own bin/python is another X.Y is offered none of the py2.7 eggs', async (t) => {
  const s = await setup(t, EGGS);
  mkdirSync(join(s.prefix, 'bin'), { recursive: true });
  fakePython(join(s.prefix, 'bin', 'python'), '3.11');
  const r = await s.enpkg(['install', 'app', '--json', '-y']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(JSON.stringify(r.json), /python 2\.7 \(not 3\.11\)/);
  // The configured version wins over the prefix's interpreter.
  const config = join(s.root, 'config.yaml');
  writeFileSync(config, 'python: "2.7"\n');
  const ok = await s.enpkg(['install', 'app', '--json', '-y', '--config', config]);
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
});

test('--python and python_executable reach egginst: entry points get that interpreter, its X.Y decides', async (t) => {
  const s = await setup(t, EGGS);
  const py27 = fakePython(join(s.root, 'python2.7-build'), '2.7');
  const r = await s.enpkg(['install', 'app', '--json', '-y', '--python', py27]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.equal(readFileSync(join(s.prefix, 'bin', 'app'), 'utf8').split('\n')[0], `#!${py27}`);

  const other = await setup(t, EGGS);
  const config = join(other.root, 'config.yaml');
  writeFileSync(config, `python_executable: ${fakePython(join(other.root, 'py'), '3.11')}\n`);
  const refused = await other.enpkg(['install', 'app', '--json', '-y', '--config', config]);
  assert.equal(refused.code, 1, refused.stdout + refused.stderr);
  assert.match(JSON.stringify(refused.json), /python 2\.7 \(not 3\.11\)/);
  const shown = await other.enpkg(['config', '--json', '--config', config]);
  assert.equal((shown.json as { config: { python_executable: string } }).config.python_executable, join(other.root, 'py'));
});
