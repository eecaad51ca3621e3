/**
 * egginst's exit statuses and rendering, from the outside: 0 success, 1 failure with nothing
 * changed, 2 usage (JSON too with --json), 130 interrupted (after the rollback), 70 only for a bug
 * (no stack unless -v or EGGINST_DEBUG=1); faults are injected into the real process with
 * `node --import` (helpers/inject-fs). Outside strings are escaped for the terminal, raw in JSON.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { test, type TestContext } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ZipFile } from 'yazl';
import { FAULTS_VAR, type FaultSpec } from './helpers/inject-fs.js';
import { egginstBin, fixturePath, runEgginst, runProgram, tempDir, treeHash, type RunResult } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);
const injectFs = pathToFileURL(join(fileURLToPath(new URL('.', import.meta.url)), 'helpers', 'inject-fs.js')).href;
const env = { SOURCE_DATE_EPOCH: '1700000000' };

interface JsonError {
  ok: false;
  error: { code: string; message: string; hint?: string; details?: Record<string, unknown>; cause?: { code: string } };
}

/** A prefix holding `upg` and a file of nobody's. */
async function prefixWithUpg(t: TestContext): Promise<{ root: string; prefix: string }> {
  const root = await tempDir(t, 'cli-');
  const prefix = join(root, 'prefix');
  mkdirSync(prefix);
  writeFileSync(join(prefix, 'keep.txt'), 'not ours\n');
  const r = await runEgginst(['--prefix', prefix, '--no-fsync', egg('upg-1.0-1')], { env });
  assert.equal(r.code, 0, r.stderr);
  return { root, prefix };
}

/** egginst with node:fs calls failing as `faults` say. */
function withFaults(faults: FaultSpec[], args: string[], extraEnv: Record<string, string> = {}): Promise<RunResult> {
  return runProgram(process.execPath, ['--import', injectFs, egginstBin, ...args], {
    env: { ...env, ...extraEnv, [FAULTS_VAR]: JSON.stringify(faults) },
  });
}

const jsonError = (r: RunResult): JsonError['error'] => {
  const j = r.json as JsonError | undefined;
  assert.ok(j && j.ok === false && typeof j.error?.code === 'string', `stdout is {"ok": false, "error": ...}: ${r.stdout}`);
  return j.error;
};

test('usage errors exit 2; with --json they are {"ok": false, "error": {"code": "USAGE"}} on stdout', async () => {
  for (const args of [
    ['--bogus'],
    ['--prefix'],
    [],
    ['--prefix', '/nonexistent/p', '--remove', '--list'],
    ['--script-timeout', '-1', 'x.egg'],
  ]) {
    const text = await runEgginst(args);
    assert.equal(text.code, 2, `${args.join(' ')}: ${text.stderr}`);
    assert.match(text.stderr, /^egginst: error: .*\n {2}hint: see egginst --help\n$/);
    assert.equal(text.stdout, '');
    const json = await runEgginst(['--json', ...args]);
    assert.equal(json.code, 2, json.stderr);
    const e = jsonError(json);
    assert.equal(e.code, 'USAGE');
    assert.equal(e.hint, 'see egginst --help');
    assert.ok(e.message.length > 0 && !e.message.startsWith('error:'), e.message);
  }
  const help = await runEgginst(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Exit status: 0 success, 1 failure .*2 usage error, 130 interrupted/s);
});

test('a failure exits 1 and changes nothing', async (t) => {
  const { root, prefix } = await prefixWithUpg(t);
  const before = await treeHash(prefix);
  const r = await runEgginst(['--prefix', prefix, '--json', join(root, 'missing-1.0-1.egg')], { env });
  assert.equal(r.code, 1, r.stderr);
  assert.equal(jsonError(r).code, 'FILE_NOT_FOUND');
  const s = await runEgginst(['--prefix', prefix, '--json', egg('data-1.0-1'), egg('failpost-1.0-1')], { env });
  assert.equal(s.code, 1, s.stderr);
  assert.equal(jsonError(s).code, 'SCRIPT_FAILED');
  assert.match(s.stderr, /--- last output ---\nfailpost: configuring failpost 1.0\n/, "the script's output keeps its lines");
  assert.equal(await treeHash(prefix), before);
});

/** An egg whose post-install script says it started (in $HOME, not the prefix), then sleeps. */
async function slowEgg(dir: string): Promise<string> {
  const path = join(dir, 'slow-1.0-1.egg');
  const zip = new ZipFile();
  const depend = ["metadata_version = '1.1'", "name = 'slow'", "version = '1.0'", 'build = 1', '', "python = '2.7'", 'packages = []', ''];
  zip.addBuffer(Buffer.from(depend.join('\n')), 'EGG-INFO/spec/depend');
  zip.addBuffer(Buffer.from('#!/bin/sh\ntouch "$HOME/started"\nexec sleep 1000\n'), 'EGG-INFO/inst/post-install', { mode: 0o100755 });
  zip.addBuffer(Buffer.from('slow\n'), 'EGG-INFO/prefix/share/slow/README.txt');
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(path));
  return path;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  test(`${signal} during a slow post-install script: rolled back, exit 130, INTERRUPTED, the prefix tree unchanged`, async (t) => {
    const { root, prefix } = await prefixWithUpg(t);
    const home = join(root, 'home');
    mkdirSync(home);
    const slow = await slowEgg(root);
    const before = await treeHash(prefix);
    const child = spawn(process.execPath, [egginstBin, '--prefix', prefix, '--json', egg('upg-2.0-1'), egg('data-1.0-1'), slow], {
      env: { PATH: process.env.PATH ?? '', HOME: home, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
    child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    for (let i = 0; i < 400 && !existsSync(join(home, 'started')); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(join(home, 'started')), `the script started: ${stderr}`);
    assert.ok(existsSync(join(prefix, 'EGG-INFO/slow')), 'the files are in place while the script runs');
    child.kill(signal);
    assert.equal(await done, 130, stderr);
    const e = (JSON.parse(stdout) as JsonError).error;
    assert.equal(e.code, 'INTERRUPTED');
    assert.match(stderr, /egginst: error: interrupted while the post-install script .* of slow ran; every change was rolled back/);
    assert.equal(await treeHash(prefix), before, 'the prefix tree is unchanged');
  });
}

test('an internal error exits 70: "this is a bug", no stack trace unless -v or EGGINST_DEBUG=1; rolled back all the same', async (t) => {
  const { prefix } = await prefixWithUpg(t);
  const before = await treeHash(prefix);
  const bug: FaultSpec[] = [{ op: 'writeFileSync', suffix: 'egginst.json', code: 'BUG' }];
  const args = ['--prefix', prefix, egg('data-1.0-1')];
  const plain = await withFaults(bug, args);
  assert.equal(plain.code, 70, plain.stderr);
  assert.match(
    plain.stderr,
    new RegExp(
      '^egginst: internal error: simulated bug: cannot read properties of undefined ' +
        '\\(this is a bug in egginst; please report it with the command you ran\\)$',
      'm',
    ),
  );
  assert.doesNotMatch(plain.stderr, /^\s+at /m, 'no stack trace');
  assert.equal(await treeHash(prefix), before);
  for (const [extraArgs, extraEnv] of [
    [['-v'], {}],
    [[], { EGGINST_DEBUG: '1' }],
  ] as const) {
    const r = await withFaults(bug, [...extraArgs, ...args], extraEnv);
    assert.equal(r.code, 70, r.stderr);
    assert.match(r.stderr, /internal error: .*this is a bug in egginst/);
    assert.match(r.stderr, /^TypeError: simulated bug.*\n\s+at /m, 'the stack trace');
  }
  const json = await withFaults(bug, ['--json', ...args]);
  assert.equal(json.code, 70);
  assert.equal(jsonError(json).code, 'INTERNAL');
  assert.equal(await treeHash(prefix), before);
});

test('ENOSPC while extracting or writing the journal: exit 1, NO_SPACE saying how much is needed where, prefix unchanged', async (t) => {
  const { prefix } = await prefixWithUpg(t);
  const before = await treeHash(prefix);
  for (const [step, fault] of [
    // The first write to a descriptor is the lock's holder note (best effort); the second is staging's.
    ['staging', { op: 'writeSync', fd: true, nth: [2], code: 'ENOSPC' }],
    ['writing the journal', { op: 'writeFileSync', fd: true, code: 'ENOSPC' }],
  ] as const) {
    const r = await withFaults([fault], ['--prefix', prefix, '--json', egg('data-1.0-1')]);
    assert.equal(r.code, 1, r.stderr);
    const e = jsonError(r);
    assert.equal(e.code, 'NO_SPACE');
    assert.match(
      e.message,
      new RegExp(
        `^no space left on device in ${prefix} while ${step}: the transaction needs about [\\d.]+ MiB there, [\\d.]+ MiB is free$`,
      ),
    );
    assert.match(r.stderr, new RegExp(`^egginst: error: no space left on device in ${prefix} while ${step}: `, 'm'));
    assert.equal(await treeHash(prefix), before);
  }
});

test('a failing rollback: exit 1, the error and its cause on stderr, and the next run finishes the rollback', async (t) => {
  const { prefix } = await prefixWithUpg(t);
  const before = await treeHash(prefix);
  // Rename 1 is the journal's; 2 and 3 move files into place; 4 is the rollback of 2.
  const r = await withFaults([{ op: 'renameSync', nth: [3, 4], code: 'EIO' }], ['--prefix', prefix, '--json', egg('data-1.0-1')]);
  assert.equal(r.code, 1, r.stderr);
  const e = jsonError(r);
  assert.equal(e.code, 'ROLLBACK_FAILED');
  assert.equal(e.cause?.code, 'IO', 'the original error is the cause');
  assert.match(r.stderr, /^egginst: error: moving files into place: EIO.*then rolling back failed too: cannot .* is partly changed/m);
  assert.match(r.stderr, /^ {2}because: moving files into place: EIO/m);
  assert.match(r.stderr, /^ {2}hint: fix the cause, then run egginst on this prefix again/m);
  assert.notEqual(await treeHash(prefix), before);
  const next = await runEgginst(['--prefix', prefix, '--list'], { env });
  assert.equal(next.code, 0, next.stderr);
  assert.match(next.stderr, /an unfinished transaction from an earlier run was rolled back/);
  assert.equal(await treeHash(prefix), before);
});

test('a failing cleanup after commit: exit 0 with a warning, and the next run finishes the cleanup', async (t) => {
  const { prefix } = await prefixWithUpg(t);
  const r = await withFaults([{ op: 'rmdirSync', suffix: '/s', code: 'EIO' }], ['--prefix', prefix, egg('data-1.0-1')]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^egginst: warning: the transaction is committed, but cleaning up after it failed: EIO/m);
  assert.match(r.stdout, /^installed data 1\.0-1$/m);
  const next = await runEgginst(['--prefix', prefix, '--list'], { env });
  assert.match(next.stderr, /an unfinished transaction from an earlier run was completed/);
  assert.ok(!existsSync(join(prefix, '.egginst')));
});

test('names from outside are escaped for the terminal and raw in --json (whose text escapes them as \\uXXXX)', async (t) => {
  const { prefix } = await prefixWithUpg(t);
  const recordFile = join(prefix, 'EGG-INFO', 'upg', 'egginst.json');
  const rec = JSON.parse(readFileSync(recordFile, 'utf8')) as { name: string; files: string[] };
  const hostile = 'upg\x1b]0;pwned\x07\u202e\u0085\u2028\x7f';
  rec.name = hostile;
  rec.files.push(`/elsewhere/${hostile}`);
  writeFileSync(recordFile, JSON.stringify(rec));
  const unsafe = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

  const text = await runEgginst(['--prefix', prefix, '--list']);
  assert.equal(text.code, 0, text.stderr);
  assert.doesNotMatch(text.stdout, unsafe);
  assert.match(text.stdout, /^upg\\u001b\]0;pwned\\u0007\\u202e\\u0085\\u2028\\u007f {2}1\.0-1$/m);

  const json = await runEgginst(['--prefix', prefix, '--list', '--json']);
  assert.doesNotMatch(json.stdout, unsafe);
  assert.equal((json.json as { packages: { name: string }[] }).packages[0]!.name, hostile, 'raw in the JSON values');

  // A warning that names a record's path: escaped on stderr.
  const removed = await runEgginst(['--prefix', prefix, '--remove', 'upg']);
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stderr, /warning: the record of upg lists 1 path\(s\) outside the prefix, .*\/elsewhere\/upg\\u001b\]0;pwned/);
  assert.doesNotMatch(removed.stderr, unsafe);
});

test("Enstaller's habits: --noapp and --pkgs-dir are accepted; --remove takes a name, name-version-build(.egg) or a path", async (t) => {
  const root = await tempDir(t, 'cli-habits-');
  const prefix = join(root, 'prefix');
  const installed = await runEgginst(['--prefix', prefix, '--noapp', '--pkgs-dir', join(root, 'pkgs'), '-v', egg('upg-1.0-1')], { env });
  assert.equal(installed.code, 0, installed.stderr);
  assert.match(installed.stderr, /desktop menu entries \(EGG-INFO\/inst\/appinst\.dat\) are not created on this platform/);
  assert.ok(!existsSync(join(root, 'pkgs')), '--pkgs-dir is ignored');
  for (const arg of ['upg-1.0-1.egg', egg('upg-1.0-1'), 'upg-1.0-1', 'UPG']) {
    const r = await runEgginst(['--prefix', prefix, '--remove', arg, '--json'], { env });
    assert.equal(r.code, 0, `${arg}: ${r.stdout}${r.stderr}`);
    assert.deepEqual(
      (r.json as { changes: { kind: string; key: string }[] }).changes.map((c) => `${c.kind} ${c.key}`),
      ['remove upg'],
      arg,
    );
    assert.equal((await runEgginst(['--prefix', prefix, '--no-fsync', egg('upg-1.0-1')], { env })).code, 0);
  }
  const missing = await runEgginst(['--prefix', prefix, '--remove', 'nosuch-1.0-1.egg'], { env });
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /nosuch/);
});

test("entry points and .py scripts use the prefix's own bin/python when it has one, else python3 on PATH", async (t) => {
  for (const own of [true, false]) {
    const root = await tempDir(t, 'cli-python-');
    const prefix = join(root, 'prefix');
    mkdirSync(join(prefix, 'bin'), { recursive: true });
    const python = join(prefix, 'bin', 'python');
    if (own) writeFileSync(python, '#!/bin/sh\nexec python3 "$@"\n', { mode: 0o755 });
    const r = await runEgginst(['--prefix', prefix, '--no-fsync', egg('app-1.0.0-1')], { env });
    assert.equal(r.code, 0, r.stderr);
    const first = readFileSync(join(prefix, 'bin', 'app'), 'utf8').split('\n')[0]!;
    if (own) assert.equal(first, `#!${python}`);
    else assert.match(first, /^#!\/.*python3$/);
  }
});
