/**
 * Every scenario in test/scenarios/*.yaml goes through the CLI (`enpkg solve FILE --json`) and must
 * print what its `expect:` entry says: `{actions: [...]}` (exit 0), or `{error: {code, message}}`
 * (exit 1).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseScenario } from 'enpkg';

const run = promisify(execFile);
const dir = fileURLToPath(new URL('../../../../test/scenarios/', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/enpkg.js', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

interface Expectation {
  actions?: unknown[];
  error?: { code: string; message: string };
}

test('there are at least 40 scenarios', () => {
  assert.ok(files.length >= 40, `${files.length} scenarios`);
});

for (const file of files) {
  test(`scenario ${file}`, async () => {
    const path = dir + file;
    const expect = parseScenario(readFileSync(path, 'utf8'), file).expect as Expectation | undefined;
    assert.ok(expect && (expect.actions || expect.error), `${file} has no expect: {actions} or {error}`);
    let stdout: string;
    let code = 0;
    try {
      ({ stdout } = await run(process.execPath, [bin, 'solve', path, '--json'], { maxBuffer: 64 << 20 }));
    } catch (e) {
      const err = e as { code?: number; stdout?: string; stderr?: string };
      code = err.code ?? -1;
      stdout = err.stdout ?? '';
      if (code !== 1) assert.fail(`exit ${code}: ${err.stderr}`);
    }
    const out = JSON.parse(stdout) as { actions?: unknown[]; error?: { code: string; message: string } };
    if (expect.error) {
      assert.equal(code, 1, `expected a failure, got ${stdout}`);
      assert.ok(out.error, stdout);
      assert.equal(out.error.code, expect.error.code);
      assert.equal(out.error.message, expect.error.message.trimEnd());
    } else {
      assert.equal(code, 0, stdout);
      assert.deepEqual(out, { actions: expect.actions });
    }
  });
}
