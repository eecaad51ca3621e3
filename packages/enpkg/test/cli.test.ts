/** The CLI contract: exit codes, stderr on errors, text and JSON output of `enpkg solve`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli/main.js';

async function run(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await main(argv, { stdout: (t) => (out += t), stderr: (t) => (err += t) });
  return { code, out, err };
}

function scenario(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'enpkg-cli-'));
  const file = join(dir, 'scenario.yaml');
  writeFileSync(file, text);
  return file;
}

const good = scenario(`
packages:
  - numpy 1.8.0-1
  - numpy 1.9.2-1
  - pandas 0.16.0-1; depends (numpy >= 1.9)
  - nose 1.3.4-1
installed: [numpy 1.8.0-1, nose 1.3.4-1]
request:
  - {operation: install, requirement: pandas}
  - {operation: remove, requirement: nose}
`);

test('solve prints the transaction in order, as text', async () => {
  const r = await run('solve', good);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.err, '');
  assert.equal(
    r.out,
    [
      '3 actions, in order:',
      '  remove    nose 1.3.4-1 (requested)',
      '  update    numpy 1.8.0-1 -> 1.9.2-1',
      '  install   pandas 0.16.0-1',
      '',
    ].join('\n'),
  );
});

test('solve --json prints {"actions": [...]}', async () => {
  const r = await run('solve', good, '--json');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(JSON.parse(r.out), {
    actions: [
      { kind: 'remove', package: 'nose 1.3.4-1' },
      { kind: 'update', from: 'numpy 1.8.0-1', to: 'numpy 1.9.2-1' },
      { kind: 'install', package: 'pandas 0.16.0-1' },
    ],
  });
});

test('a request with nothing to do says so', async () => {
  const file = scenario('packages: [a 1.0-1]\ninstalled: [a 1.0-1]\nrequest: [{operation: install, requirement: a}]\n');
  const r = await run('solve', file);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Nothing to do/);
  assert.deepEqual(JSON.parse((await run('solve', file, '--json')).out), { actions: [] });
});

test('no solution: exit 1, the explanation on stderr, or {"error"} with --json', async () => {
  const file = scenario(`
packages:
  - a 1.0-1; depends (b >= 2)
  - b 1.0-1
request:
  - {operation: install, requirement: a}
`);
  const text = await run('solve', file);
  assert.equal(text.code, 1);
  assert.equal(text.out, '');
  assert.match(
    text.err,
    new RegExp(
      /^enpkg: error: cannot install a:\n {2}a was requested, and a 1\.0-1 requires b >= 2, /.source +
        /but no version of b matches it \(available: 1\.0-1\)\.\n {2}hint: /.source,
    ),
  );
  const json = await run('solve', file, '--json');
  assert.equal(json.code, 1);
  const out = JSON.parse(json.out) as { ok: boolean; error: { code: string; message: string } };
  assert.equal(out.ok, false);
  assert.equal(out.error.code, 'UNSATISFIABLE');
  assert.match(out.error.message, /^cannot install a:/);
});

test('a bad scenario names the file and the entry', async () => {
  const file = scenario('packages: ["numpy 1.8.0-x"]\nrequest: []\n');
  const r = await run('solve', file);
  assert.equal(r.code, 1);
  assert.match(
    r.err,
    /^enpkg: error: scenario .*scenario\.yaml: packages\[0\] "numpy 1\.8\.0-x": invalid version "1\.8\.0-x": the build "x"/,
  );
  const typo = scenario('packages: []\nrequests: []\n');
  assert.match((await run('solve', typo)).err, /requests: unknown key/);
  const badReq = scenario('packages: [a 1.0-1]\nrequest: [{operation: install, requirement: "a >="}]\n');
  assert.match((await run('solve', badReq)).err, /request\[0\]: invalid requirement "a >=": missing a version after ">="/);
  const badOp = scenario('packages: [a 1.0-1]\nrequest: [{operation: upgrayed, requirement: a}]\n');
  assert.match(
    (await run('solve', badOp)).err,
    /operation must be one of install, remove, update, soft_update, hard_update, update_all, upgrade \(got "upgrayed"\)/,
  );
  const badKind = scenario(
    'packages: [a 1.0-1]\nrequest: [{operation: install, requirement: a}]\ntransaction: [{kind: replace, package: a 1.0-1}]\n',
  );
  assert.match((await run('solve', badKind)).err, /transaction\[0\]: kind must be one of install, remove, update, upgrade, downgrade/);
});

test('a missing file is an error with a hint; usage errors exit 2', async () => {
  const r = await run('solve', '/nonexistent/scenario.yaml');
  assert.equal(r.code, 1);
  assert.match(r.err, /^enpkg: error: cannot read scenario \/nonexistent\/scenario\.yaml: no such file\n {2}hint: /);
  assert.equal((await run('solve')).code, 2);
  // A bare name is Enstaller's install (`enpkg frobnicate`); an unknown option is a usage error.
  assert.equal((await run('--frobnicate')).code, 2);
  assert.equal((await run('solve', good, '--bogus')).code, 2);
});

test('--help and --version exit 0', async () => {
  const help = await run('solve', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /Scenario format/);
  const version = await run('--version');
  assert.equal(version.code, 0);
  assert.match(version.out, /^\d+\.\d+\.\d+/);
});

test('a bug is exit 70 with a hint to report it and no stack trace (ENPKG_DEBUG=1 adds it); --json too', async () => {
  const { run } = await import('../src/cli/common.js');
  const { output } = await import('../src/cli/render.js');
  for (const json of [false, true]) {
    let out = '';
    let err = '';
    const io = { stdout: (t: string) => void (out += t), stderr: (t: string) => void (err += t) };
    const ctx = { io, o: output(io), exitCode: 0 };
    await run(ctx, { json }, () => {
      throw new TypeError("Cannot read properties of undefined (reading 'x')");
    });
    assert.equal(ctx.exitCode, 70);
    if (json) {
      const e = (JSON.parse(out) as { ok: boolean; error: { code: string; hint: string } }).error;
      assert.equal(e.code, 'INTERNAL');
      assert.match(e.hint, /this is a bug in enpkg: please report it/);
    } else {
      assert.match(
        err,
        /^enpkg: error: internal error: Cannot read properties of undefined \(reading 'x'\)\n {2}hint: this is a bug in enpkg/,
      );
      assert.doesNotMatch(err, /\n\s+at /);
    }
  }
});
