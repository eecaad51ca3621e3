/**
 * enpkg's copy of itself in a prefix (src/self): the pointer file, the choice of a version to move
 * to, the manifest, and the launchers, which are written into a temporary home and really run with
 * /bin/sh against small fake versions of enpkg.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { PkgError } from 'egginst/core';
import type { IndexEntry } from '../src/repo/types.js';
import { chooseSelf, compareSelf, selfCandidates } from '../src/self/choose.js';
import { checkLauncherPaths, isLauncherOrAbsent, LAUNCHER_MARK, LAUNCHERS, launcherScript, writeLaunchers } from '../src/self/launcher.js';
import { parseManifest, type Manifest } from '../src/self/manifest.js';
import {
  formatPointer,
  isVersionId,
  parsePointer,
  pointerPath,
  readPointer,
  selfDir,
  splitVersionId,
  STARTED_FILE,
  switchPointer,
  versionDir,
  versionId,
  type Pointer,
} from '../src/self/pointer.js';

type TestContext = { after(fn: () => void): void };

function tempHome(t: TestContext, name = 'self-'): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An assert.throws matcher for a PkgError with `code` whose message mentions each of `mentions`. */
const pkgError =
  (code: string, ...mentions: string[]) =>
  (e: unknown): boolean => {
    assert.ok(e instanceof PkgError, `expected a PkgError, got ${String(e)}`);
    assert.equal(e.code, code);
    for (const m of mentions) assert.ok(e.message.includes(m), `${JSON.stringify(e.message)} should mention ${JSON.stringify(m)}`);
    return true;
  };

const pointer = (current: string, extra: Partial<Pointer> = {}): Pointer => ({
  current,
  previous: null,
  trial: null,
  failed: [],
  ...extra,
});

// ---------------------------------------------------------------------------------------------------
// pointer.ts

test('pointer: format and parse round-trip, with and without previous, trial and failed', () => {
  const full = pointer('1.1.0-1', { previous: '1.0.0-1', trial: '1.1.0-1', failed: ['1.2.0-1', '1.3.0-2'] });
  const bare = pointer('0.1.0-0');
  assert.deepEqual(parsePointer(formatPointer(full), 'p'), full);
  assert.deepEqual(parsePointer(formatPointer(bare), 'p'), bare);
  assert.match(formatPointer(bare), /^previous=$/m);
  assert.match(formatPointer(bare), /^trial=$/m);
});

test('pointer: comments, blank lines, spaces, CRLF and unknown keys are tolerated', () => {
  const text =
    '# a comment\r\n\r\n  current=1.0.0-1  \r\nprevious=\r\n# trial=9.9.9-9\r\nfailed=  0.9.0-1   0.9.1-1 \r\nfuture=whatever\r\n';
  assert.deepEqual(parsePointer(text, 'p'), pointer('1.0.0-1', { failed: ['0.9.0-1', '0.9.1-1'] }));
});

test('pointer: a damaged file is SELF_POINTER_INVALID naming the file', () => {
  const source = '/prefix/.enpkg/self/current';
  const damaged = [
    'previous=1.0.0-1\n', // no current
    'current=\n', // empty current
    '# only a comment\n',
    'current=../x-1\n',
    'current=1.0.0\n', // no build
    'current=1.0.0-1\nprevious=a/b-1\n',
    'current=1.0.0-1\ntrial=.hidden-1\n',
    'current=1.0.0-1\nfailed=1.0.0-2 nope\n',
    'current=1.0.0-1\ngarbage\n', // no '='
    'current=1.0.0-1\n=1.0.0-2\n', // no key
  ];
  for (const text of damaged) {
    assert.throws(() => parsePointer(text, source), pkgError('SELF_POINTER_INVALID', source), JSON.stringify(text));
  }
});

test('pointer: version ids', () => {
  for (const good of ['1.0.0-1', '1.1.0-12', '2.7.3_1-0']) assert.ok(isVersionId(good), good);
  for (const bad of ['1.0.0', '../x-1', '.1-1', 'a/b-1', '1.0.0-x', '1.0.0-', '-1', '1.0 .0-1', '']) assert.ok(!isVersionId(bad), bad);
  assert.equal(versionId('1.1.0', 2), '1.1.0-2');
  assert.deepEqual(splitVersionId('1.10.0-12'), { version: '1.10.0', build: 12 });
  assert.equal(versionDir('/h', '1.0.0-1'), join('/h', '.enpkg', 'self', '1.0.0-1'));
});

test('pointer: readPointer is null when absent and throws with the path when damaged', (t) => {
  const home = tempHome(t);
  assert.equal(readPointer(home), null);
  mkdirSync(selfDir(home), { recursive: true });
  writeFileSync(pointerPath(home), 'current=oops\n');
  assert.throws(() => readPointer(home), pkgError('SELF_POINTER_INVALID', pointerPath(home)));
});

test('pointer: switchPointer replaces the file whole and leaves no temporary file', (t) => {
  const home = tempHome(t);
  mkdirSync(selfDir(home), { recursive: true });
  const long = pointer('1.1.0-1', { previous: '1.0.0-1', trial: '1.1.0-1', failed: ['1.2.0-1', '1.3.0-1', '1.4.0-1', '1.5.0-1'] });
  const short = pointer('1.0.0-1');
  switchPointer(home, long);
  assert.deepEqual(readPointer(home), long);
  let seenBeforeRename: Pointer | null = null;
  switchPointer(home, short, () => {
    seenBeforeRename = readPointer(home);
  });
  assert.deepEqual(seenBeforeRename, long, 'until the rename, readers see the old pointer');
  assert.equal(readFileSync(pointerPath(home), 'utf8'), formatPointer(short), 'nothing of the longer file is left');
  assert.deepEqual(readPointer(home), short);
  assert.deepEqual(readdirSync(selfDir(home)), ['current']);
});

// ---------------------------------------------------------------------------------------------------
// choose.ts

const egg = (version: string, build: number, extra: Partial<IndexEntry> = {}): IndexEntry => ({
  name: 'enpkg',
  key: 'enpkg',
  version,
  build,
  depends: [],
  platform: 'linux',
  arch: 'x86_64',
  eggName: `enpkg-${version}-${build}.egg`,
  size: 1000,
  sha256: 'a'.repeat(64),
  md5: null,
  mtime: null,
  summary: null,
  repository: 'r',
  ...extra,
});

const here = { platform: 'linux', arch: 'x86_64' };
const ids = (es: readonly IndexEntry[]): string[] => es.map((e) => versionId(e.version, e.build));

/** 1.10.0-1, 1.9.0-1, 1.1.0-2, 1.1.0-1, 1.0.0-1, in the order the repositories happen to list them. */
const universe = selfCandidates([egg('1.0.0', 1), egg('1.1.0', 2), egg('1.9.0', 1), egg('1.1.0', 1), egg('1.10.0', 1)], here);

test('choose: compareSelf orders by semver, then by build', () => {
  assert.ok(compareSelf({ version: '1.10.0', build: 0 }, { version: '1.9.0', build: 5 }) > 0);
  assert.ok(compareSelf({ version: '1.1.0', build: 1 }, { version: '1.1.0', build: 2 }) < 0);
  assert.ok(compareSelf({ version: '1.1.0-rc.1', build: 9 }, { version: '1.1.0', build: 0 }) < 0);
  assert.equal(compareSelf({ version: '2.0.0', build: 3 }, { version: '2.0.0', build: 3 }), 0);
});

test('choose: candidates are enpkg eggs for this machine with semver versions, newest first', () => {
  const entries = [
    egg('1.0.0', 1),
    egg('1.2.0', 1, { platform: 'darwin' }),
    egg('1.3.0', 1, { arch: 'arm64' }),
    egg('1.4', 1), // not semver
    egg('1.5.0.1', 1), // not semver
    egg('1.6.0', 1, { key: 'numpy', name: 'numpy' }),
    egg('1.1.0', 1, { platform: null, arch: null }), // any machine
    egg('1.10.0', 1),
    egg('1.9.0', 3),
    egg('1.1.0', 2),
  ];
  assert.deepEqual(ids(selfCandidates(entries, here)), ['1.10.0-1', '1.9.0-3', '1.1.0-2', '1.1.0-1', '1.0.0-1']);
  // An environment that does not say its platform and arch takes them all.
  assert.deepEqual(ids(selfCandidates(entries, {})), ['1.10.0-1', '1.9.0-3', '1.3.0-1', '1.2.0-1', '1.1.0-2', '1.1.0-1', '1.0.0-1']);
});

test('choose: newest picks the newest, and nothing when there is nothing newer', () => {
  assert.deepEqual(chooseSelf(universe, { version: '1.0.0', build: 1 }, { kind: 'newest' }), {
    entry: universe[0],
    id: '1.10.0-1',
    downgrade: false,
  });
  assert.equal(chooseSelf(universe, null, { kind: 'newest' })?.id, '1.10.0-1');
  assert.equal(chooseSelf(universe, { version: '1.10.0', build: 1 }, { kind: 'newest' }), null);
  assert.equal(chooseSelf([], { version: '1.0.0', build: 1 }, { kind: 'newest' }), null);
  // A newer build of the same version is newer.
  assert.equal(
    chooseSelf(selfCandidates([egg('1.1.0', 1), egg('1.1.0', 2)], here), { version: '1.1.0', build: 1 }, { kind: 'newest' })?.id,
    '1.1.0-2',
  );
});

test('choose: newest is never a downgrade', () => {
  assert.equal(chooseSelf(universe, { version: '2.0.0', build: 1 }, { kind: 'newest' }), null);
  assert.equal(chooseSelf(universe, { version: '1.10.0', build: 2 }, { kind: 'newest' }), null);
});

test('choose: a named version may be older, and is then a downgrade', () => {
  const c = chooseSelf(universe, { version: '1.9.0', build: 1 }, { kind: 'version', version: '1.0.0' });
  assert.deepEqual(c, { entry: universe[4], id: '1.0.0-1', downgrade: true });
  assert.deepEqual(chooseSelf(universe, { version: '1.0.0', build: 1 }, { kind: 'version', version: '1.9.0' })?.downgrade, false);
});

test('choose: a named version takes its highest build; an exact id takes that build', () => {
  const current = { version: '1.10.0', build: 1 };
  assert.equal(chooseSelf(universe, current, { kind: 'version', version: '1.1.0' })?.id, '1.1.0-2');
  assert.equal(chooseSelf(universe, current, { kind: 'version', version: '1.1.0-1' })?.id, '1.1.0-1');
  assert.equal(chooseSelf(universe, null, { kind: 'version', version: '1.1.0-1' })?.downgrade, false);
});

test('choose: naming the running version is nothing to do', () => {
  assert.equal(chooseSelf(universe, { version: '1.1.0', build: 2 }, { kind: 'version', version: '1.1.0' }), null);
  assert.equal(chooseSelf(universe, { version: '1.1.0', build: 1 }, { kind: 'version', version: '1.1.0-1' }), null);
});

test('choose: an unknown version is SELF_VERSION_NOT_FOUND', () => {
  const current = { version: '1.0.0', build: 1 };
  assert.throws(
    () => chooseSelf(universe, current, { kind: 'version', version: '3.0.0' }),
    pkgError('SELF_VERSION_NOT_FOUND', '3.0.0', '1.10.0-1'),
  );
  assert.throws(
    () => chooseSelf(universe, current, { kind: 'version', version: '1.1.0-7' }),
    pkgError('SELF_VERSION_NOT_FOUND', '1.1.0-7'),
  );
  assert.throws(() => chooseSelf(universe, current, { kind: 'version', version: 'nonsense' }), pkgError('SELF_VERSION_NOT_FOUND'));
  assert.throws(() => chooseSelf([], current, { kind: 'version', version: '1.0.0' }), pkgError('SELF_VERSION_NOT_FOUND'));
});

test('choose: versions that failed here are skipped unless named', () => {
  const current = { version: '1.0.0', build: 1 };
  assert.equal(chooseSelf(universe, current, { kind: 'newest' }, ['1.10.0-1'])?.id, '1.9.0-1');
  assert.equal(chooseSelf(universe, current, { kind: 'newest' }, ['1.10.0-1', '1.9.0-1', '1.1.0-2'])?.id, '1.1.0-1');
  assert.equal(chooseSelf(universe, { version: '1.9.0', build: 1 }, { kind: 'newest' }, ['1.10.0-1']), null);
  assert.equal(chooseSelf(universe, current, { kind: 'version', version: '1.10.0' }, ['1.10.0-1'])?.id, '1.10.0-1');
  assert.equal(chooseSelf(universe, current, { kind: 'version', version: '1.10.0-1' }, ['1.10.0-1'])?.id, '1.10.0-1');
});

// ---------------------------------------------------------------------------------------------------
// launcher.ts, run for real

/** What a fake enpkg.js prints: one JSON line. */
interface Seen {
  label: string;
  args: string[];
  home: string | null;
  trial: string | null;
}

/**
 * A fake enpkg.js that prints what it was given; with `confirm`, a trial start creates `started` in
 * its own directory as start.ts does. Dynamic import works whether Node takes the file for CommonJS or ESM.
 */
const fakeEnpkg = (label: string, opts: { confirm: boolean; exit: number }): string => `
Promise.all([import('node:fs'), import('node:path')]).then(([fs, path]) => {
  const env = process.env;
  console.log(JSON.stringify({
    label: ${JSON.stringify(label)}, args: process.argv.slice(2), home: env.ENPKG_HOME ?? null, trial: env.ENPKG_TRIAL ?? null,
  }));
  if (${opts.confirm} && env.ENPKG_TRIAL === '1') fs.writeFileSync(path.join(path.dirname(process.argv[1]), 'started'), '');
  process.exitCode = ${opts.exit};
});
`;

const started = (home: string, id: string): boolean => existsSync(join(versionDir(home, id), STARTED_FILE));

const fakeEgginst = `console.log(JSON.stringify({ prefix: process.env.EGGINST_PREFIX ?? null, args: process.argv.slice(2) }));\n`;

const GOOD = '1.0.0-1';
const BROKEN = '1.1.0-1';
/** Confirms its trial start, then fails anyway. */
const LATE = '1.2.0-1';

/** A home with the launchers and three fake versions; the pointer is up to each test. */
function launcherHome(t: TestContext, name?: string): string {
  const home = tempHome(t, name);
  const add = (id: string, program: string): void => {
    mkdirSync(versionDir(home, id), { recursive: true });
    writeFileSync(join(versionDir(home, id), 'enpkg.js'), program);
    writeFileSync(join(versionDir(home, id), 'egginst.js'), fakeEgginst);
  };
  add(GOOD, fakeEnpkg('good', { confirm: true, exit: 0 }));
  add(BROKEN, fakeEnpkg('broken', { confirm: false, exit: 3 }));
  add(LATE, fakeEnpkg('late', { confirm: true, exit: 4 }));
  assert.equal(writeLaunchers(home, process.execPath), true);
  return home;
}

function setPointer(home: string, p: Pointer): void {
  writeFileSync(pointerPath(home), formatPointer(p));
}

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
  seen: Seen[];
}

/** Run `<home>/bin/<name>` with /bin/sh, with none of the variables the launchers look at inherited. */
function launch(home: string, name: 'enpkg' | 'egginst', args: string[], env: Record<string, string> = {}): Run {
  const base: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['ENPKG_NODE', 'ENPKG_HOME', 'ENPKG_TRIAL', 'ENPKG_SMOKE', 'EGGINST_PREFIX', 'NODE_OPTIONS']) delete base[k];
  const r = spawnSync('/bin/sh', [join(home, 'bin', name), ...args], { env: { ...base, ...env }, encoding: 'utf8' });
  if (r.error) throw r.error;
  const seen = r.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Seen);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, seen };
}

const ARGS = ['install', 'two words', "it's", '$HOME', ''];

test('launcher: runs the current version with the arguments as given and ENPKG_HOME set', (t) => {
  const home = launcherHome(t);
  setPointer(home, pointer(GOOD, { previous: BROKEN }));
  // A stray ENPKG_TRIAL from the caller does not make a normal start a trial.
  const r = launch(home, 'enpkg', ARGS, { ENPKG_TRIAL: '1', ENPKG_HOME: '/somewhere/else' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.seen, [{ label: 'good', args: ARGS, home, trial: null }]);
  assert.equal(r.stderr, '');
  assert.deepEqual(readPointer(home), pointer(GOOD, { previous: BROKEN }));
});

test('launcher: a hand-edited pointer without a final newline is read like parsePointer reads it', (t) => {
  const home = launcherHome(t);
  writeFileSync(pointerPath(home), `previous=${BROKEN}\ncurrent=${GOOD}`);
  assert.deepEqual(readPointer(home), pointer(GOOD, { previous: BROKEN }));
  const r = launch(home, 'enpkg', ['list']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.seen, [{ label: 'good', args: ['list'], home, trial: null }]);
});

test('launcher: a failing version that is not on trial passes its exit status through', (t) => {
  const home = launcherHome(t);
  setPointer(home, pointer(BROKEN, { previous: GOOD }));
  const r = launch(home, 'enpkg', ['list']);
  assert.equal(r.status, 3);
  assert.deepEqual(
    r.seen.map((s) => s.label),
    ['broken'],
  );
  assert.doesNotMatch(r.stderr, /went back/);
  assert.deepEqual(readPointer(home), pointer(BROKEN, { previous: GOOD }), 'the pointer is left alone');
});

test('launcher: the first start of a good version runs on trial and confirms it', (t) => {
  const home = launcherHome(t);
  setPointer(home, pointer(GOOD, { previous: BROKEN, trial: GOOD }));
  const r = launch(home, 'enpkg', ['list']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.seen, [{ label: 'good', args: ['list'], home, trial: '1' }]);
  assert.ok(started(home, GOOD), 'the version confirmed its start');
  assert.deepEqual(readPointer(home), pointer(GOOD, { previous: BROKEN, trial: GOOD }), 'the new version never writes the pointer');
  // Confirmed: the next start is a normal one.
  assert.equal(launch(home, 'enpkg', ['list']).seen[0]?.trial, null);
});

test('launcher: a failed first start goes back to the previous version and runs the same command', (t) => {
  const home = launcherHome(t);
  setPointer(home, pointer(BROKEN, { previous: GOOD, trial: BROKEN, failed: ['0.9.0-1'] }));
  const r = launch(home, 'enpkg', ARGS);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.seen, [
    { label: 'broken', args: ARGS, home, trial: '1' },
    { label: 'good', args: ARGS, home, trial: null },
  ]);
  assert.match(r.stderr, new RegExp(`enpkg ${BROKEN} failed to start \\(exit status 3\\); went back to enpkg ${GOOD}`));
  assert.deepEqual(readPointer(home), pointer(GOOD, { failed: ['0.9.0-1', BROKEN] }));
  assert.deepEqual(readdirSync(selfDir(home)).sort(), [GOOD, BROKEN, LATE, 'current'].sort(), 'no temporary file is left');
});

test('launcher: no going back after the version confirmed, or without a previous version to go to', (t) => {
  const home = launcherHome(t);
  // Confirmed its start, then failed: an ordinary failure.
  setPointer(home, pointer(LATE, { previous: GOOD, trial: LATE }));
  let r = launch(home, 'enpkg', ['list']);
  assert.equal(r.status, 4);
  assert.deepEqual(
    r.seen.map((s) => s.label),
    ['late'],
  );
  assert.ok(started(home, LATE));
  assert.deepEqual(readPointer(home), pointer(LATE, { previous: GOOD, trial: LATE }));

  for (const p of [pointer(BROKEN, { trial: BROKEN }), pointer(BROKEN, { previous: '0.5.0-1', trial: BROKEN })]) {
    setPointer(home, p);
    r = launch(home, 'enpkg', ['list']);
    assert.equal(r.status, 3, formatPointer(p));
    assert.deepEqual(
      r.seen.map((s) => s.label),
      ['broken'],
    );
    assert.doesNotMatch(r.stderr, /went back/);
    assert.deepEqual(readPointer(home), p);
  }
});

test('launcher: without a pointer both launchers exit 70 with a hint', (t) => {
  const home = launcherHome(t);
  for (const name of ['enpkg', 'egginst'] as const) {
    const r = launch(home, name, ['list']);
    assert.equal(r.status, 70);
    assert.deepEqual(r.seen, []);
    assert.match(r.stderr, new RegExp(`^${name}: no enpkg is installed in `));
    assert.ok(r.stderr.includes(`hint: run enpkg bootstrap --prefix ${home}`), r.stderr);
  }
  // A pointer that names no current version is no better.
  writeFileSync(pointerPath(home), 'previous=1.0.0-1\n');
  assert.equal(launch(home, 'enpkg', []).status, 70);
});

test('launcher: egginst gets EGGINST_PREFIX=home unless it is set', (t) => {
  const home = launcherHome(t);
  setPointer(home, pointer(GOOD, { trial: GOOD }));
  let r = launch(home, 'egginst', ['a.egg']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, `${JSON.stringify({ prefix: home, args: ['a.egg'] })}\n`);
  r = launch(home, 'egginst', ['a.egg'], { EGGINST_PREFIX: '/other/prefix' });
  assert.equal(r.stdout, `${JSON.stringify({ prefix: '/other/prefix', args: ['a.egg'] })}\n`);
  assert.equal(readPointer(home)?.trial, GOOD, 'egginst does not run a trial');
});

test('launcher: a home with a space, a quote and a dollar sign in its path', (t) => {
  const home = launcherHome(t, "self it's $HOME `x` ");
  setPointer(home, pointer(GOOD));
  let r = launch(home, 'enpkg', ARGS);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.seen, [{ label: 'good', args: ARGS, home, trial: null }]);
  r = launch(home, 'egginst', []);
  assert.equal(r.stdout, `${JSON.stringify({ prefix: home, args: [] })}\n`);
  setPointer(home, pointer(BROKEN, { previous: GOOD, trial: BROKEN }));
  r = launch(home, 'enpkg', ['list']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.seen.map((s) => s.label),
    ['broken', 'good'],
  );
  assert.deepEqual(readPointer(home), pointer(GOOD, { failed: [BROKEN] }));
});

test('launcher: the Node path is used as given, even with shell characters in it', (t) => {
  const home = launcherHome(t);
  const dir = join(home, `no de's "$PATH" \`x\` \\`);
  mkdirSync(dir);
  const node = join(dir, 'node');
  symlinkSync(process.execPath, node);
  assert.equal(writeLaunchers(home, node), true);
  setPointer(home, pointer(GOOD));
  // With no node on PATH, only the path written into the launcher can run it.
  const r = launch(home, 'enpkg', ['list'], { PATH: '/nonexistent' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    r.seen.map((s) => s.label),
    ['good'],
  );
});

test('launcher: writeLaunchers writes executable launchers and rewrites nothing when they are current', (t) => {
  const home = tempHome(t);
  assert.equal(writeLaunchers(home, '/usr/bin/node'), true);
  for (const l of LAUNCHERS) {
    const text = readFileSync(join(home, 'bin', l.name), 'utf8');
    assert.equal(text, launcherScript(home, '/usr/bin/node', l));
    assert.match(text, /^#!\/bin\/sh\n/);
    assert.equal(text.split('\n')[1]?.startsWith(LAUNCHER_MARK), true);
  }
  assert.equal(writeLaunchers(home, '/usr/bin/node'), false);
  assert.equal(writeLaunchers(home, '/opt/node/bin/node'), true);
  assert.deepEqual(readdirSync(join(home, 'bin')).sort(), ['egginst', 'enpkg']);
});

// ---------------------------------------------------------------------------------------------------
// isLauncherOrAbsent, checkLauncherPaths

test('launcher paths: absent or ours is fine; a foreign file is SELF_LAUNCHER_CONFLICT', (t) => {
  const home = tempHome(t);
  const enpkg = join(home, 'bin', 'enpkg');
  const egginst = join(home, 'bin', 'egginst');
  assert.equal(isLauncherOrAbsent(enpkg), true);
  checkLauncherPaths(home);

  writeLaunchers(home, process.execPath);
  assert.equal(isLauncherOrAbsent(enpkg), true);
  assert.equal(isLauncherOrAbsent(egginst), true);
  checkLauncherPaths(home);

  writeFileSync(egginst, '#!/usr/bin/env python\nimport egginst\n');
  assert.equal(isLauncherOrAbsent(egginst), false);
  assert.throws(() => checkLauncherPaths(home), pkgError('SELF_LAUNCHER_CONFLICT', egginst));

  // The mark counts only on the line after the shebang.
  writeFileSync(egginst, `${LAUNCHER_MARK}\n`);
  assert.equal(isLauncherOrAbsent(egginst), false);
  writeFileSync(egginst, '');
  assert.equal(isLauncherOrAbsent(egginst), false);
  rmSync(egginst);
  mkdirSync(egginst);
  assert.equal(isLauncherOrAbsent(egginst), false, 'a directory is not ours to replace');
  assert.throws(() => checkLauncherPaths(home), pkgError('SELF_LAUNCHER_CONFLICT'));
});

// ---------------------------------------------------------------------------------------------------
// manifest.ts

const manifest: Manifest = {
  name: 'enpkg',
  version: '1.1.0',
  build: 2,
  node: '>=20',
  platform: 'linux',
  arch: 'x64',
  modules: '115',
  entries: { enpkg: 'enpkg.js', egginst: 'egginst.js' },
};

test('manifest: a valid one round-trips', () => {
  assert.deepEqual(parseManifest(JSON.stringify(manifest), 'm.json'), manifest);
  assert.deepEqual(parseManifest(JSON.stringify({ ...manifest, build: 0 }), 'm.json').build, 0);
});

test('manifest: anything else is SELF_EGG_INVALID naming the file', () => {
  const without = (k: keyof Manifest): Record<string, unknown> => {
    const m: Record<string, unknown> = { ...manifest };
    delete m[k];
    return m;
  };
  const bad: [string, string][] = [
    ['not json', '{'],
    ['null', 'null'],
    ['an array', '[]'],
    ['a string', '"enpkg"'],
    ['wrong name', JSON.stringify({ ...manifest, name: 'Enpkg' })],
    ['no name', JSON.stringify(without('name'))],
    ['no version', JSON.stringify(without('version'))],
    ['empty version', JSON.stringify({ ...manifest, version: '' })],
    ['no node', JSON.stringify(without('node'))],
    ['no platform', JSON.stringify(without('platform'))],
    ['no arch', JSON.stringify(without('arch'))],
    ['numeric modules', JSON.stringify({ ...manifest, modules: 115 })],
    ['no build', JSON.stringify(without('build'))],
    ['negative build', JSON.stringify({ ...manifest, build: -1 })],
    ['fractional build', JSON.stringify({ ...manifest, build: 1.5 })],
    ['string build', JSON.stringify({ ...manifest, build: '2' })],
    ['no entries', JSON.stringify(without('entries'))],
    ['no egginst entry', JSON.stringify({ ...manifest, entries: { enpkg: 'enpkg.js' } })],
  ];
  for (const [why, text] of bad) {
    assert.throws(() => parseManifest(text, '/x/manifest.json'), pkgError('SELF_EGG_INVALID', '/x/manifest.json'), why);
  }
});
