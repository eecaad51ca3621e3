/**
 * Every scenario in test/scenarios/*.yaml carries its expectation in the original tool's form
 * (`transaction:` or `failure:`). All of them go through `enpkg solve --check` at once (exit 0, "ok"
 * for each); then each one through `enpkg solve FILE --json`, which must give the transaction's
 * actions in the order written (execution order), or fail with exactly the `failure:` lines.
 * `--check` itself is tested against expectations that do not hold.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { compareVersions, parseScenario, parseVersion } from 'enpkg';

const run = promisify(execFile);
const dir = fileURLToPath(new URL('../../../../test/scenarios/', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/enpkg.js', import.meta.url));
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

async function enpkg(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [bin, ...args], { maxBuffer: 64 << 20 });
    return { code: 0, stdout, stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? -1, stdout: err.stdout ?? '', stderr: err.stderr ?? '' };
  }
}

test('there are at least 60 scenarios', () => {
  assert.ok(files.length >= 60, `${files.length} scenarios`);
});

test('enpkg solve --check: every scenario gives what it expects', async () => {
  const r = await enpkg(['solve', '--check', ...files.map((f) => dir + f)]);
  assert.equal(r.stderr, '');
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(
    lines.filter((l) => !l.startsWith('ok ')),
    [],
  );
  assert.equal(lines.length, files.length);
  assert.equal(r.code, 0);
});

/** An action of `--json` in the original tool's vocabulary (update: upgrade or downgrade). */
function kindOf(a: { kind: string; from?: string; to?: string }): string {
  if (a.kind !== 'update') return a.kind;
  const v = (s: string) => parseVersion(s.split(' ')[1]!);
  const c = compareVersions(v(a.to!), v(a.from!));
  return c > 0 ? 'upgrade' : c < 0 ? 'downgrade' : 'update';
}
const lower = (s: string | undefined) => {
  if (s === undefined) return undefined;
  const [name, v] = s.split(' ');
  return `${name!.toLowerCase()} ${v}`;
};

for (const file of files) {
  test(`scenario ${file}: actions in order, or the failure's lines`, async () => {
    const path = dir + file;
    const expectation = parseScenario(readFileSync(path, 'utf8'), file).expectation;
    assert.ok(expectation, `${file} has no transaction: or failure:`);
    const r = await enpkg(['solve', path, '--json']);
    const out = JSON.parse(r.stdout) as {
      actions?: { kind: string; package?: string; from?: string; to?: string }[];
      error?: { message: string };
    };
    if (expectation.kind === 'failure') {
      assert.equal(r.code, 1, `expected a failure, got ${r.stdout}`);
      assert.deepEqual(
        out.error!.message.split('\n').map((l) => l.replace(/^ {2}/, '')),
        expectation.lines,
      );
    } else {
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const got = out.actions!.map((a) => ({ kind: kindOf(a), package: lower(a.package), from: lower(a.from), to: lower(a.to) }));
      const want = expectation.actions.map((a) => ({ kind: a.kind, package: a.package, from: a.from, to: a.to }));
      assert.deepEqual(got, want);
    }
  });
}

test('enpkg solve --check prints each difference and exits 1 (the original format, both package spellings)', async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'enpkg-check-'));
  const universe = `packages:
  - numpy 1.8.0-1
  - numpy 1.9.2-1
  - pandas 0.16.0-1; depends (numpy >= 1.9)
installed:
  - numpy-1.8.0-1
marked:
  - numpy-1.8.0-1
# comments, decisions and pretty_transaction are ignored
decisions: {}
pretty_transaction: |
  Upgrading numpy
request:
  - operation: "install"
    requirement: "pandas"
`;
  const good = join(tmp, 'good.yaml');
  writeFileSync(
    good,
    `${universe}transaction:
  - kind: "upgrade"
    from: "numpy-1.8.0-1"
    to: "numpy 1.9.2-1"
  - {kind: install, package: pandas-0.16.0-1}
`,
  );
  const wrong = join(tmp, 'wrong.yaml');
  writeFileSync(
    wrong,
    `${universe}transaction:
  - {kind: install, package: pandas 0.16.0-1}
  - {kind: downgrade, from: numpy 1.9.2-1, to: numpy 1.8.0-1}
`,
  );
  const failing = join(tmp, 'failing.yaml');
  writeFileSync(
    failing,
    `${universe}failure:
  - "cannot install pandas:"
`,
  );
  const r = await enpkg(['solve', '--check', good, wrong, failing]);
  assert.equal(r.code, 1, r.stderr);
  assert.equal(
    r.stdout,
    `ok ${good}
differs ${wrong}
  missing: downgrade numpy 1.9.2-1 -> numpy 1.8.0-1
  unexpected: upgrade numpy 1.8.0-1 -> numpy 1.9.2-1
differs ${failing}
  expected no solution, but the resolver found one: upgrade numpy 1.8.0-1 -> numpy 1.9.2-1, install pandas 0.16.0-1
`,
  );
  const ok = await enpkg(['solve', '--check', good]);
  assert.equal(ok.code, 0);
  const usage = await enpkg(['solve', good, wrong]);
  assert.equal(usage.code, 2, usage.stderr);
});
