/**
 * enpkg's own egg, bootstrap and self-update, end to end: eggs of enpkg built from this checkout's
 * bundle (stamped 1.0.0, 1.1.0, ...), a local repository, a prefix bootstrapped from 1.0.0, and
 * everything run through the launcher <prefix>/bin/enpkg as a user would.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import { buildBenchEgg } from '#fixtures';
import { SELF_CRASH_POINTS } from 'enpkg';
import { buildBundle, writeSelfEgg } from 'enpkg/tools/build-egg';
import {
  createTempDir,
  enpkgBin,
  fixturePath,
  runEnpkg,
  runProgram,
  setup,
  tempDir,
  treeHash,
  type RunResult,
  type TempDir,
} from './helpers/index.js';

let shared: TempDir;
const eggs: Record<string, string> = {};

/** A version that passes its smoke run but cannot start for real (as a bad migration would). */
const failsFirstStart = {
  'enpkg.js': (d: Buffer) =>
    Buffer.concat([Buffer.from("if (process.env.ENPKG_SMOKE !== '1') throw new Error('this build of enpkg is broken');\n"), d]),
};
/** A version that cannot even start. */
const failsSmoke = { 'enpkg.js': (d: Buffer) => Buffer.concat([Buffer.from("throw new Error('this build of enpkg cannot start');\n"), d]) };

before(async () => {
  shared = await createTempDir('enpkg-self-');
  const bundleDir = join(shared.path, 'bundle');
  await buildBundle(bundleDir);
  const out = join(shared.path, 'eggs');
  for (const version of ['1.0.0', '1.1.0', '1.1.1']) eggs[version] = await writeSelfEgg({ bundleDir, outDir: out, version, build: 1 });
  eggs['1.2.0'] = await writeSelfEgg({ bundleDir, outDir: out, version: '1.2.0', build: 1, patch: failsFirstStart });
  eggs['1.3.0'] = await writeSelfEgg({ bundleDir, outDir: out, version: '1.3.0', build: 1, patch: failsSmoke });
});

after(() => shared?.cleanup());

interface World {
  dir: string;
  repo: string;
  prefix: string;
  env: Record<string, string>;
  /** `<prefix>/bin/enpkg ...args`. */
  enpkg(args: string[], extra?: Record<string, string>): Promise<RunResult>;
  /** Put eggs of enpkg into the repository and index it again. */
  publish(...versions: string[]): Promise<void>;
}

const APP_EGGS = ['app-1.0.0-1', 'app-1.1.0-1', 'libfoo-1.0.0-1', 'libfoo-1.1.0-1', 'libbar-2.0-1'];

/** The example repository (setup()) plus eggs of enpkg, and a prefix bootstrapped from 1.0.0. */
async function world(
  t: TestContext,
  opts: { versions: string[]; config?: (w: { repo: string; dir: string }) => string } = { versions: [] },
): Promise<World> {
  const { root: dir, repo, prefix, env } = await setup(t, APP_EGGS);
  const publish = async (...versions: string[]): Promise<void> => {
    for (const v of versions) copyFileSync(eggs[v]!, join(repo, `enpkg-${v}-1.egg`));
    const r = await runEnpkg(['repo', 'index', repo, '-q'], { env });
    assert.equal(r.code, 0, r.stderr);
  };
  await publish(...opts.versions);
  const boot = await runEnpkg(['bootstrap', '--prefix', prefix, eggs['1.0.0']!], { env });
  assert.equal(boot.code, 0, boot.stderr + boot.stdout);
  writeFileSync(
    join(prefix, '.enpkg', 'config.yaml'),
    opts.config ? opts.config({ repo, dir }) : `repositories:\n  - path: ${JSON.stringify(repo)}\n`,
  );
  return {
    dir,
    repo,
    prefix,
    env,
    enpkg: (args, extra = {}) => runProgram(join(prefix, 'bin', 'enpkg'), args, { env: { ...env, ...extra } }),
    publish,
  };
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what}: exit ${r.code} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
  return r;
}

async function version(w: World): Promise<string> {
  return ok(await w.enpkg(['--version']), 'enpkg --version').stdout.trim();
}

function pointer(w: World): Record<string, string> {
  const text = readFileSync(join(w.prefix, '.enpkg', 'self', 'current'), 'utf8');
  return Object.fromEntries(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
}

function versionDirs(w: World): string[] {
  return readdirSync(join(w.prefix, '.enpkg', 'self'))
    .filter((n) => n !== 'current')
    .sort();
}

/** The self-update revisions' changes to enpkg, as `from>to` (bootstrap: `>to`). */
async function selfHistory(w: World): Promise<string[]> {
  const r = ok(await w.enpkg(['history', '--json']), 'history');
  type C = {
    kind: string;
    version?: string;
    build?: number;
    from?: { version: string; build: number };
    to?: { version: string; build: number };
  };
  const revs = (r.json as { revisions: { kind: string; changes: C[] }[] }).revisions.filter((x) => x.kind === 'self-update');
  return revs.map((x) => {
    const c = x.changes[0]!;
    return c.kind === 'install' ? `>${c.version}-${c.build}` : `${c.from!.version}-${c.from!.build}>${c.to!.version}-${c.to!.build}`;
  });
}

/** What a refused self-update must leave exactly as it was: the versions, the pointer, the launchers. */
async function selfState(w: World): Promise<string> {
  return `${await treeHash(join(w.prefix, '.enpkg', 'self'))} ${await treeHash(join(w.prefix, 'bin'))}`;
}

test('bootstrap: the launchers run enpkg and egginst from the prefix, which enpkg then manages', async (t) => {
  const w = await world(t, { versions: [] });
  assert.equal(await version(w), '1.0.0');
  assert.deepEqual(pointer(w), { current: '1.0.0-1', previous: '', trial: '', failed: '' });
  assert.match(readFileSync(join(w.prefix, 'bin', 'enpkg'), 'utf8'), /^#!\/bin\/sh\n# enpkg launcher/);
  ok(await w.enpkg(['install', 'app-1.0.0', '-y']), 'install through the launcher');
  assert.ok(existsSync(join(w.prefix, 'bin', 'app-tool')));
  const list = ok(await runProgram(join(w.prefix, 'bin', 'egginst'), ['--list'], { env: w.env }), 'egginst --list');
  assert.match(list.stdout, /app\s+1\.0\.0-1/);
  assert.deepEqual(await selfHistory(w), ['>1.0.0-1']);
  // The bundled egginst stages a large egg with its worker threads (a chunk of the bundle finds its worker).
  const many = join(w.dir, 'many-1.0-1.egg');
  await buildBenchEgg(many, { files: 2500, totalBytes: 2 << 20, root: 'many' });
  const staged = ok(
    await runProgram(join(w.prefix, 'bin', 'egginst'), [many], { env: { ...w.env, EGGINST_THREADS: '3' } }),
    'egginst with threads',
  );
  assert.match(staged.stdout + staged.stderr, /installed many 1\.0-1/);
  assert.match(ok(await w.enpkg(['verify', 'many']), 'verify').stdout, /All 1 packages are intact/);
  // No egg may replace the launchers: not through enpkg, not through egginst.
  const launcher = readFileSync(join(w.prefix, 'bin', 'enpkg'), 'utf8');
  const shadow = await runProgram(join(w.prefix, 'bin', 'egginst'), [fixturePath('eggs', 'shadow-1.0-1.egg')], { env: w.env });
  assert.equal(shadow.code, 1);
  assert.match(shadow.stderr, /bin\/enpkg from shadow-1\.0-1\.egg would replace enpkg's launcher/);
  copyFileSync(fixturePath('eggs', 'shadow-1.0-1.egg'), join(w.repo, 'shadow-1.0-1.egg'));
  await w.publish();
  const viaEnpkg = await w.enpkg(['install', 'shadow', '-y']);
  assert.equal(viaEnpkg.code, 1);
  assert.match(viaEnpkg.stderr, /would replace enpkg's launcher/);
  assert.equal(readFileSync(join(w.prefix, 'bin', 'enpkg'), 'utf8'), launcher);
  // enpkg is not a package of the prefix: it keeps itself.
  const refused = await w.enpkg(['install', 'enpkg', '-y']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /enpkg is not installed as a package: it keeps itself\n {2}hint: use enpkg self-update/);
  // Bootstrapping again: the same version is a no-op; another one is refused.
  ok(await runEnpkg(['bootstrap', '--prefix', w.prefix, eggs['1.0.0']!], { env: w.env }), 'bootstrap again');
  const other = await runEnpkg(['bootstrap', '--prefix', w.prefix, eggs['1.1.0']!], { env: w.env });
  assert.equal(other.code, 1);
  assert.match(
    other.stderr,
    /enpkg 1\.0\.0-1 is already bootstrapped in .*\n {2}hint: move it to another version with .*bin\/enpkg self-update/,
  );
});

test('bootstrap refuses an egg that is not enpkg, and a bin/enpkg that is not a launcher, changing nothing', async (t) => {
  const dir = await tempDir(t, 'enpkg-self-b-');
  const prefix = join(dir, 'prefix');
  const env = { HOME: dir, XDG_CACHE_HOME: join(dir, 'cache') };
  const notEnpkg = await runEnpkg(['bootstrap', '--prefix', prefix, fixturePath('eggs', 'app-1.0.0-1.egg')], { env });
  assert.equal(notEnpkg.code, 1);
  assert.match(notEnpkg.stderr, /app-1\.0\.0-1\.egg is not an egg of enpkg/);
  assert.equal(existsSync(prefix), false, 'the prefix was not even created');
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  writeFileSync(join(prefix, 'bin', 'enpkg'), '#!/bin/sh\necho mine\n', { mode: 0o755 });
  const conflict = await runEnpkg(['bootstrap', '--prefix', prefix, eggs['1.0.0']!], { env });
  assert.equal(conflict.code, 1);
  assert.match(conflict.stderr, /bin\/enpkg exists and is not an enpkg launcher/);
  assert.equal(readFileSync(join(prefix, 'bin', 'enpkg'), 'utf8'), '#!/bin/sh\necho mine\n');
  assert.equal(existsSync(join(prefix, '.enpkg', 'self')), false);
});

test('self-update 1.0.0 -> 1.1.0 from the repository; the new version runs the next command; rollback and --version', async (t) => {
  const w = await world(t, { versions: ['1.0.0', '1.1.0'] });
  const check = ok(await w.enpkg(['self-update', '--check']), 'check');
  assert.match(check.stdout, /enpkg 1\.1\.0-1 is available \(this is 1\.0\.0-1\)/);
  assert.equal(pointer(w).current, '1.0.0-1', '--check changes nothing');
  const up = ok(await w.enpkg(['self-update', '-y']), 'self-update');
  assert.match(up.stdout, /enpkg is now 1\.1\.0-1 \(was 1\.0\.0-1/);
  assert.deepEqual(pointer(w), { current: '1.1.0-1', previous: '1.0.0-1', trial: '1.1.0-1', failed: '' });
  assert.equal(await version(w), '1.1.0');
  assert.ok(existsSync(join(w.prefix, '.enpkg', 'self', '1.1.0-1', 'started')), 'the first start confirmed the new version');
  assert.equal(pointer(w).trial, '1.1.0-1', 'which never writes the pointer itself');
  ok(await w.enpkg(['install', 'app', '-y']), 'a command under the new version');
  assert.match(ok(await w.enpkg(['list']), 'list').stdout, /app\s+1\.1\.0-1/);
  assert.deepEqual(versionDirs(w), ['1.0.0-1', '1.1.0-1'], 'the previous version is kept');
  assert.deepEqual(await selfHistory(w), ['>1.0.0-1', '1.0.0-1>1.1.0-1']);
  const history = ok(await w.enpkg(['history']), 'history').stdout;
  // Enstaller's --log shape: enpkg's own change as a version change.
  assert.match(history, /UTC {2}\(rev \d+\)\n {5}enpkg {2}\(1\.0\.0-1 -> 1\.1\.0-1\)\n/);
  // Nothing newer: nothing to do.
  assert.match(
    ok(await w.enpkg(['self-update', '-y']), 'again').stdout,
    /enpkg 1\.1\.0-1 is the newest in the repositories; nothing to do/,
  );
  // --rollback goes back to the kept version; --version moves to a named one (even an older one).
  ok(await w.enpkg(['self-update', '--rollback', '-y']), 'rollback');
  assert.equal(await version(w), '1.0.0');
  assert.deepEqual(pointer(w), { current: '1.0.0-1', previous: '1.1.0-1', trial: '1.0.0-1', failed: '' });
  ok(await w.enpkg(['self-update', '--version', '1.1.0', '-y']), '--version');
  assert.equal(await version(w), '1.1.0');
  assert.deepEqual(await selfHistory(w), ['>1.0.0-1', '1.0.0-1>1.1.0-1', '1.1.0-1>1.0.0-1', '1.0.0-1>1.1.0-1']);
  // Bootstrap without an egg takes the newest enpkg from the repositories.
  const other = join(w.dir, 'other');
  const boot = ok(await runEnpkg(['bootstrap', '--prefix', other, '--repo', w.repo], { env: w.env }), 'bootstrap from the repository');
  assert.match(boot.stdout, /enpkg 1\.1\.0-1 is bootstrapped into/);
  assert.equal(ok(await runProgram(join(other, 'bin', 'enpkg'), ['--version'], { env: w.env }), 'version').stdout.trim(), '1.1.0');
  // Versions are not packages: revert leaves enpkg where it is.
  ok(await w.enpkg(['revert', '0', '-y']), 'revert');
  assert.equal(await version(w), '1.1.0');
  assert.match(ok(await w.enpkg(['list']), 'list').stdout, /No packages installed/);
});

test('a broken 1.2.0 that fails its first start: the launcher goes back to 1.1.0, says so, and runs the command', async (t) => {
  const w = await world(t, { versions: ['1.1.0'] });
  ok(await w.enpkg(['self-update', '-y']), 'to 1.1.0');
  assert.equal(await version(w), '1.1.0');
  await w.publish('1.2.0');
  ok(await w.enpkg(['self-update', '-y']), 'to 1.2.0 (its smoke run passes)');
  assert.deepEqual(pointer(w), { current: '1.2.0-1', previous: '1.1.0-1', trial: '1.2.0-1', failed: '' });
  const first = await w.enpkg(['list']);
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.stderr, /this build of enpkg is broken/);
  assert.match(first.stderr, /enpkg: enpkg 1\.2\.0-1 failed to start \(exit status 1\); went back to enpkg 1\.1\.0-1/);
  assert.match(first.stdout, /No packages installed/, 'the command ran, with 1.1.0');
  assert.equal(pointer(w).current, '1.1.0-1');
  assert.equal(pointer(w).failed, '1.2.0-1');
  assert.equal(await version(w), '1.1.0');
  const again = ok(await w.enpkg(['self-update', '-y']), 'self-update skips the failed version');
  assert.match(again.stdout, /1\.2\.0-1 failed to start here and is skipped/);
  assert.equal(pointer(w).current, '1.1.0-1');
  assert.deepEqual((await selfHistory(w)).slice(-2), ['1.1.0-1>1.2.0-1', '1.2.0-1>1.1.0-1'], 'the fallback is in the history');
});

test('a version that fails its smoke run is refused: the running version untouched', async (t) => {
  const w = await world(t, { versions: ['1.3.0'] });
  const before = await selfState(w);
  const r = await w.enpkg(['self-update', '-y']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /enpkg 1\.3\.0-1 failed its smoke run \(exit status 1\):\n[\s\S]*this build of enpkg cannot start/);
  assert.equal(await selfState(w), before);
  assert.equal(await version(w), '1.0.0');
});

test('a bad signature, a bad hash and a downgrade are refused, the running version untouched', async (t) => {
  // Signed with one key, while the configuration trusts another.
  const w = await world(t, {
    versions: ['1.1.0'],
    config: ({ repo, dir }) => {
      const kg = JSON.parse(
        execFileSync(process.execPath, [enpkgBin, 'repo', 'keygen', join(dir, 'trusted.key'), '--json'], { encoding: 'utf8' }),
      ) as { publicKey: string };
      const pub = kg.publicKey;
      return `repositories:\n  - path: ${JSON.stringify(repo)}\n    keys: [${JSON.stringify(pub)}]\n`;
    },
  });
  const keygen = await runEnpkg(['repo', 'keygen', join(w.dir, 'other.key')], { env: w.env });
  assert.equal(keygen.code, 0, keygen.stderr);
  const sign = await runEnpkg(['repo', 'index', w.repo, '--sign', join(w.dir, 'other.key'), '-q'], { env: w.env });
  assert.equal(sign.code, 0, sign.stderr);
  const before = await selfState(w);
  const badSig = await w.enpkg(['self-update', '-y']);
  assert.equal(badSig.code, 1);
  assert.match(badSig.stderr, /signature/i);
  assert.equal(await selfState(w), before);

  // Trusted signature, but the egg's bytes differ from what the index says.
  const sign2 = await runEnpkg(['repo', 'index', w.repo, '--sign', join(w.dir, 'trusted.key'), '-q'], { env: w.env });
  assert.equal(sign2.code, 0, sign2.stderr);
  const egg = join(w.repo, 'enpkg-1.1.0-1.egg');
  const bytes = readFileSync(egg);
  const mid = bytes.length >> 1;
  bytes.writeUInt8(bytes.readUInt8(mid) ^ 0xff, mid);
  writeFileSync(egg, bytes);
  const badHash = await w.enpkg(['self-update', '-y']);
  assert.equal(badHash.code, 1);
  assert.match(badHash.stderr, /enpkg-1\.1\.0-1\.egg .*sha256 mismatch/);
  assert.equal(await selfState(w), before);
  assert.equal(await version(w), '1.0.0');

  // Only an older enpkg in the repository: never a downgrade unless a version is named.
  const w2 = await world(t, { versions: ['1.0.0'] });
  ok(await runEnpkg(['bootstrap', '--prefix', join(w2.dir, 'p2'), eggs['1.1.0']!], { env: w2.env }), 'bootstrap 1.1.0');
  const p2 = join(w2.dir, 'p2');
  writeFileSync(join(p2, '.enpkg', 'config.yaml'), `repositories:\n  - path: ${JSON.stringify(w2.repo)}\n`);
  const run2 = (args: string[]): Promise<RunResult> => runProgram(join(p2, 'bin', 'enpkg'), args, { env: w2.env });
  const down = ok(await run2(['self-update', '-y']), 'no downgrade');
  assert.match(down.stdout, /enpkg 1\.1\.0-1 is the newest in the repositories; nothing to do/);
  assert.equal(ok(await run2(['--version']), 'version').stdout.trim(), '1.1.0');
  ok(await run2(['self-update', '--version', '1.0.0', '-y']), 'a named downgrade');
  assert.equal(ok(await run2(['--version']), 'version').stdout.trim(), '1.0.0');
});

test('autoupdate: install first moves enpkg to the newer version, then runs again under it', async (t) => {
  const w = await world(t, {
    versions: ['1.1.0'],
    config: ({ repo }) => `autoupdate: true\nrepositories:\n  - path: ${JSON.stringify(repo)}\n`,
  });
  const r = ok(await w.enpkg(['install', 'app-1.0.0', '-y']), 'install with autoupdate');
  assert.match(r.stderr, /updating enpkg 1\.0\.0-1 -> 1\.1\.0-1 first \(autoupdate\)/);
  assert.match(r.stderr, /enpkg is now 1\.1\.0-1; running the command again with it/);
  assert.match(r.stdout, /Done: revision \d+/);
  assert.equal(await version(w), '1.1.0');
  const revs = (ok(await w.enpkg(['history', '--json']), 'history').json as { revisions: { kind: string; command: string }[] }).revisions;
  assert.deepEqual(
    revs.slice(-2).map((x) => x.kind),
    ['self-update', 'transaction'],
    'enpkg first, then the install',
  );
  // Nothing newer: the command just runs.
  const again = ok(await w.enpkg(['update', 'app', '-y']), 'update with nothing newer for enpkg');
  assert.doesNotMatch(again.stderr, /autoupdate/);
  assert.match(ok(await w.enpkg(['list']), 'list').stdout, /app\s+1\.1\.0-1/);
});

test('self-update under kill -9 at every named point leaves a working enpkg, and the next self-update finishes', async (t) => {
  const w = await world(t, { versions: ['1.1.0'] });
  ok(await w.enpkg(['self-update', '-y']), 'to 1.1.0');
  assert.equal(await version(w), '1.1.0');
  await w.publish('1.1.1');
  const template = join(w.dir, 'template');
  execFileSync('cp', ['-a', w.prefix, template]);
  const points = SELF_CRASH_POINTS.flatMap((p) => (p === 'self-unpacking' ? [`${p}:1`, `${p}:25`] : [p]));
  for (const point of points) {
    rmSync(w.prefix, { recursive: true, force: true });
    execFileSync('cp', ['-a', template, w.prefix]);
    const crashed = await w.enpkg(['self-update', '-y'], { ENPKG_CRASH_AT: point });
    assert.equal(
      crashed.signal ?? crashed.code,
      'SIGKILL',
      `${point}: the self-update should have crashed\n${crashed.stdout}${crashed.stderr}`,
    );
    const v = await version(w);
    assert.ok(v === '1.1.0' || v === '1.1.1', `${point}: enpkg --version says ${v}`);
    ok(await w.enpkg(['list']), `${point}: list after the crash`);
    ok(await w.enpkg(['self-update', '-y']), `${point}: self-update after the crash`);
    assert.equal(await version(w), '1.1.1', point);
    assert.deepEqual(versionDirs(w), ['1.1.0-1', '1.1.1-1'], `${point}: only current and previous remain`);
    const h = await selfHistory(w);
    assert.deepEqual(h.slice(2), ['1.1.0-1>1.1.1-1'], `${point}: the switch is recorded once: ${h.join(', ')}`);
  }
});
