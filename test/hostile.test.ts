/**
 * Every hostile archive is refused with its stable error code, and refusing it changes nothing:
 * not the prefix, not its sibling directories, not the working directory or HOME.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { escapeForTerminal } from 'egginst';
import { fixturePath, readHostileManifest, runEgginst, tempDir, treeHash, treeListing } from './helpers/index.js';

interface JsonFailure {
  ok: false;
  error: { code: string; message: string };
}

function isJsonFailure(v: unknown): v is JsonFailure {
  if (typeof v !== 'object' || v === null) return false;
  const { ok, error } = v as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  return ok === false && typeof error?.code === 'string' && typeof error.message === 'string';
}

/** Paths outside the temporary root that an attack names; they must not appear. */
const OUTSIDE_TARGETS = ['/tmp/evil.py'];

for (const c of readHostileManifest()) {
  test(`${c.file}: ${c.attack} -> ${c.expectCode}`, async (t) => {
    const root = await tempDir(t, 'hostile-');
    const prefix = join(root, 'prefix');
    const cwd = join(root, 'cwd');
    const home = join(root, 'home');
    await mkdir(join(root, 'outside'));
    await mkdir(join(prefix, 'lib'), { recursive: true });
    await mkdir(cwd);
    await mkdir(home);
    await writeFile(join(prefix, 'keep.txt'), 'this file was here before\n');
    await writeFile(join(prefix, 'lib', 'keep.txt'), 'so was this one\n');
    const before = await treeListing(root);
    const beforeHash = await treeHash(root);
    const outsideBefore = OUTSIDE_TARGETS.filter((p) => existsSync(p));

    const r = await runEgginst(['--prefix', prefix, '--json', fixturePath('hostile', c.file)], {
      cwd,
      env: { HOME: home },
      timeoutMs: 60_000,
    });

    const context = `exit ${r.code}${r.signal ? ` (${r.signal})` : ''}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
    assert.equal(r.timedOut, false, `egginst did not finish\n${context}`);
    assert.equal(r.code, 1, context);
    assert.ok(isJsonFailure(r.json), `stdout is not {"ok": false, "error": {"code", "message"}}\n${context}`);
    assert.equal(r.json.error.code, c.expectCode, context);
    // The message carries the raw name; the renderer escapes it for the terminal (on stderr).
    assert.ok(
      escapeForTerminal(r.json.error.message).includes(c.entry),
      `the message should name ${JSON.stringify(c.entry)}: ${JSON.stringify(r.json.error.message)}`,
    );
    assert.ok(r.stderr.includes(c.entry), `stderr should name ${JSON.stringify(c.entry)}: ${JSON.stringify(r.stderr)}`);
    assert.doesNotMatch(r.stderr + r.stdout, /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]/, 'no control character reaches the terminal');

    if ((await treeHash(root)) !== beforeHash) {
      assert.deepEqual(await treeListing(root), before, 'the prefix and its surroundings are unchanged');
    }
    assert.deepEqual(
      OUTSIDE_TARGETS.filter((p) => existsSync(p)),
      outsideBefore,
      'nothing was written outside',
    );
  });
}
