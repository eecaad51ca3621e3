/**
 * Publishing and querying a repository through the CLI: `enpkg repo index` (incremental, refused
 * eggs, signing, --legacy-json, --expires), `enpkg repo keygen`, `enpkg search` / `enpkg info`
 * against an installed prefix, `enpkg config` errors, and hostile strings kept off the terminal.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compressIndex } from 'enpkg';
import { decompress } from 'zstd-napi';
import { fixturePath, homeEnv, runEgginst, runEnpkg, tempDir, type RunResult } from './helpers/index.js';

async function repoWith(t: TestContext, eggs: string[]): Promise<{ dir: string; repo: string; env: Record<string, string> }> {
  const dir = await tempDir(t, 'enpkg-publish-');
  const repo = join(dir, 'repo');
  mkdirSync(repo);
  for (const egg of eggs) copyFileSync(fixturePath('eggs', egg), join(repo, egg));
  const home = join(dir, 'home');
  mkdirSync(home);
  return { dir, repo, env: homeEnv(home) };
}

interface IndexJson {
  ok: boolean;
  serial: number;
  packages: number;
  read: number;
  reused: number;
  removed: number;
  refused: Array<{ file: string; code: string; message: string }>;
  expires: string | null;
  error?: { code: string };
}

async function index(repo: string, ...args: string[]): Promise<{ r: RunResult; j: IndexJson }> {
  const r = await runEnpkg(['repo', 'index', repo, '--json', ...args]);
  assert.ok(r.json, r.stdout + r.stderr);
  return { r, j: r.json as IndexJson };
}

test('repo index is incremental: unchanged eggs are not read again; the serial grows', async (t) => {
  const { repo } = await repoWith(t, ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg']);
  const first = await index(repo);
  assert.equal(first.r.code, 0, first.r.stdout);
  assert.deepEqual([first.j.serial, first.j.packages, first.j.read, first.j.reused], [1, 3, 3, 0]);
  copyFileSync(fixturePath('eggs', 'libfoo-1.1.0-1.egg'), join(repo, 'libfoo-1.1.0-1.egg'));
  const second = await index(repo);
  assert.deepEqual([second.j.serial, second.j.packages, second.j.read, second.j.reused], [2, 4, 1, 3]);
  // A changed mtime means the egg is read again; a removed egg drops its entry.
  utimesSync(join(repo, 'libbar-2.0-1.egg'), new Date(), new Date(Date.now() - 60_000));
  rmSync(join(repo, 'app-1.0.0-1.egg'));
  const third = await index(repo);
  assert.deepEqual([third.j.serial, third.j.packages, third.j.read, third.j.reused, third.j.removed], [3, 3, 1, 2, 1]);
  const human = await runEnpkg(['repo', 'index', repo]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /index\.json\.zst: 3 packages, serial 4\n {2}read 0 eggs, kept 3 unchanged, dropped 0\n/);
});

test('eggs that disagree with their metadata or fail the archive checks are left out and listed; exit 1', async (t) => {
  const { repo } = await repoWith(t, ['libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg']);
  copyFileSync(fixturePath('eggs', 'app-1.0.0-1.egg'), join(repo, 'app-1.0.0-2.egg'));
  copyFileSync(fixturePath('eggs', 'libfoo-1.1.0-1.egg'), join(repo, 'other-1.1.0-1.egg'));
  copyFileSync(fixturePath('hostile', 'evil_traversal-1.0-1.egg'), join(repo, 'evil_traversal-1.0-1.egg'));
  copyFileSync(fixturePath('eggs', 'Plain-0.5-py2.7.egg'), join(repo, 'Plain-0.5-py2.7.egg'));
  writeFileSync(join(repo, 'junk-1.0-1.egg'), 'not a zip');
  const { r, j } = await index(repo);
  assert.equal(r.code, 1);
  assert.equal(j.ok, false);
  assert.equal(j.error?.code, 'INDEX_EGGS_REFUSED');
  assert.equal(j.packages, 2);
  assert.deepEqual(
    j.refused.map((f) => [f.file, f.code]),
    [
      ['Plain-0.5-py2.7.egg', 'EGG_NAME_INVALID'],
      ['app-1.0.0-2.egg', 'METADATA_MISMATCH'],
      ['evil_traversal-1.0-1.egg', 'ARCHIVE_UNSAFE_PATH'],
      ['junk-1.0-1.egg', 'ARCHIVE_CORRUPT'],
      ['other-1.1.0-1.egg', 'METADATA_MISMATCH'],
    ],
  );
  assert.match(j.refused[4]!.message, /names the package libfoo, but the file name says other/);
  const human = await runEnpkg(['repo', 'index', repo]);
  assert.equal(human.code, 1);
  assert.match(human.stderr, /5 eggs were left out:\n {2}Plain-0\.5-py2\.7\.egg: .*\[EGG_NAME_INVALID\]\n {2}app-1\.0\.0-2\.egg: /);
  // The index holds the good eggs only.
  const s = await runEnpkg(['search', '--repo', repo, '--json'], { env: { XDG_CACHE_HOME: join(repo, '..', 'c') } });
  assert.deepEqual(
    (s.json as { packages: Array<{ name: string }> }).packages.map((p) => p.name),
    ['libbar', 'libfoo'],
  );
});

test('keygen, --sign, --expires and --legacy-json; a client with the key verifies the signature', async (t) => {
  const { dir, repo, env } = await repoWith(t, ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg']);
  const key = join(dir, 'k');
  const kg = await runEnpkg(['repo', 'keygen', key, '--json']);
  assert.equal(kg.code, 0);
  const pub = (kg.json as { publicKey: string }).publicKey;
  assert.equal(readFileSync(`${key}.pub`, 'utf8').trim(), pub);
  const again = await runEnpkg(['repo', 'keygen', key]);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already exists\n {2}hint: .*--force/);
  const { j } = await index(repo, '--sign', key, '--expires', '30', '--legacy-json');
  assert.ok(j.expires && Date.parse(j.expires) > Date.now() + 29 * 86_400_000);
  assert.ok(existsSync(join(repo, 'index.json.zst.sig')));
  const legacy = JSON.parse(readFileSync(join(repo, 'index.json'), 'utf8')) as Record<string, { name: string; md5: string; type: string }>;
  assert.deepEqual(Object.keys(legacy).sort(), ['app-1.0.0-1.egg', 'libbar-2.0-1.egg', 'libfoo-1.0.0-1.egg']);
  assert.equal(legacy['app-1.0.0-1.egg']!.type, 'egg');
  const cfg = join(dir, 'c.yaml');
  writeFileSync(cfg, `repositories:\n  - {path: ${JSON.stringify(repo)}, name: signed, keys: ["${pub}"]}\n`);
  const s = await runEnpkg(['search', '--config', cfg, '--json'], { env });
  assert.equal(s.code, 0, s.stdout + s.stderr);
  assert.deepEqual(
    (s.json as { repositories: Array<{ signed: boolean }> }).repositories.map((r) => r.signed),
    [true],
  );
  // Re-indexing without --sign removes the stale signature, and the client then refuses the index.
  const unsigned = await runEnpkg(['repo', 'index', repo]);
  assert.match(unsigned.stderr, /index\.json\.zst\.sig removed/);
  assert.match(unsigned.stderr, /index\.json was not updated/);
  const refused = await runEnpkg(['search', '--config', cfg], { env });
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /no signature \(index\.json\.zst\.sig\), but repository signed has trusted keys configured/);
});

test('repo index --from reads our own index (zstd or plain JSON); a monolithic index before it gives the serial', async (t) => {
  const { dir, repo } = await repoWith(t, ['app-1.0.0-1.egg', 'libfoo-1.0.0-1.egg', 'libbar-2.0-1.egg']);
  const first = await index(repo, '--expires', '30');
  assert.equal(first.r.code, 0, first.r.stdout);
  const source = join(repo, 'index.json.zst');
  const original = JSON.parse(decompress(readFileSync(source)).toString('utf8')) as { repository: string; packages: object };
  const copy = join(dir, 'copy');
  const fromZstd = await index(copy, '--from', source);
  assert.equal(fromZstd.r.code, 0, fromZstd.r.stdout + fromZstd.r.stderr);
  // The serial goes on from the source's.
  assert.deepEqual([fromZstd.j.packages, fromZstd.j.serial], [3, 2]);
  const copied = JSON.parse(decompress(readFileSync(join(copy, 'index.json.zst'))).toString('utf8')) as typeof original;
  assert.deepEqual([copied.repository, copied.packages], [original.repository, original.packages]);
  // Without the sharded form, the previous serial is read from the monolithic index (its entries skipped).
  for (const f of ['root.json.zst', 'shards']) rmSync(join(copy, f), { recursive: true, force: true });
  const plain = join(dir, 'index.json');
  writeFileSync(plain, JSON.stringify(original, null, 1));
  const fromPlain = await index(copy, '--from', plain);
  assert.equal(fromPlain.r.code, 0, fromPlain.r.stdout + fromPlain.r.stderr);
  assert.deepEqual([fromPlain.j.packages, fromPlain.j.serial], [3, 3]);
});

test('search and info show versions, repositories and what is installed in the prefix', async (t) => {
  const { dir, repo, env } = await repoWith(t, [
    'app-1.0.0-1.egg',
    'app-1.1.0-1.egg',
    'libfoo-1.0.0-1.egg',
    'libfoo-1.1.0-1.egg',
    'libbar-2.0-1.egg',
  ]);
  assert.equal((await index(repo)).r.code, 0);
  const prefix = join(dir, 'prefix');
  const inst = await runEgginst(['--prefix', prefix, '--no-scripts', fixturePath('eggs', 'libfoo-1.0.0-1.egg')]);
  assert.equal(inst.code, 0, inst.stderr);
  const s = await runEnpkg(['search', 'LIB', '--repo', repo, '--prefix', prefix, '--json'], { env });
  assert.equal(s.code, 0, s.stderr);
  const rows = (
    s.json as {
      packages: Array<{
        name: string;
        installed: string | null;
        versions: Array<{ version: string; installed: boolean; repository: string }>;
      }>;
    }
  ).packages;
  assert.deepEqual(
    rows.map((r) => [r.name, r.installed, r.versions.map((v) => `${v.version}${v.installed ? '*' : ''}`)]),
    [
      ['libbar', null, ['2.0']],
      ['libfoo', '1.0.0-1', ['1.0.0*', '1.1.0']],
    ],
  );
  assert.equal(rows[0]!.versions[0]!.repository, repo);
  const table = await runEnpkg(['search', '^lib', '--repo', repo], { env: { ...env, ENPKG_PREFIX: prefix } });
  assert.match(table.stdout, /libfoo\s+1\.0\.0-1\s+\S+\s+installed\n\s+1\.1\.0-1\s+\S+\n/);

  const info = await runEnpkg(['info', 'APP', '--repo', repo, '--prefix', prefix, '--json'], { env });
  assert.equal(info.code, 0, info.stderr);
  const ij = info.json as {
    name: string;
    installed: unknown;
    packages: Array<{ version: string; depends: string[]; size: number; repository: string; sha256: string }>;
  };
  assert.equal(ij.name, 'app');
  assert.equal(ij.installed, null);
  assert.deepEqual(
    ij.packages.map((p) => [p.version, p.depends]),
    [
      ['1.1.0', ['libfoo 1.1.0', 'libbar 2.0']],
      ['1.0.0', ['libfoo 1.0.0', 'libbar']],
    ],
  );
  assert.equal(ij.packages[0]!.size, readFileSync(fixturePath('eggs', 'app-1.1.0-1.egg')).length);
  assert.match(ij.packages[0]!.sha256, /^[0-9a-f]{64}$/);
  const human = await runEnpkg(['info', 'app', '--repo', repo], { env });
  assert.match(
    human.stdout,
    /^Package: app\nInstalled: no\n\n1\.1\.0-1\n {2}repository: .*\n {2}file: {7}app-1\.1\.0-1\.egg \(1\.2 KiB\)\n/,
  );
  assert.match(human.stdout, /requires: {3}libfoo 1\.1\.0, libbar 2\.0/);

  const missing = await runEnpkg(['info', 'nosuch', '--repo', repo, '--json'], { env });
  assert.equal(missing.code, 1);
  assert.equal((missing.json as { error: { code: string } }).error.code, 'PACKAGE_NOT_FOUND');
  const badRe = await runEnpkg(['search', '(', '--repo', repo], { env });
  assert.equal(badRe.code, 1);
  assert.match(badRe.stderr, /enpkg: error: "\(" is not a valid regular expression/);
});

test('strings from an index cannot drive the terminal: control characters are escaped', async (t) => {
  const { repo, env } = await repoWith(t, []);
  const doc = {
    schema: 1,
    repository: 'evil',
    serial: 1,
    generated: '2026-01-01T00:00:00Z',
    packages: {
      'trick-1.0-1.egg': {
        name: 'trick',
        version: '1.0',
        build: 1,
        packages: [],
        python: null,
        platform: null,
        arch: null,
        size: 1,
        sha256: 'a'.repeat(64),
        summary: 'hi\x1b]0;owned\x07\x1b[2J\u009b31m',
      },
    },
  };
  writeFileSync(join(repo, 'index.json.zst'), compressIndex(Buffer.from(JSON.stringify(doc))));
  const r = await runEnpkg(['info', 'trick', '--repo', repo], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!/[\x1b\x07\u009b]/.test(r.stdout), JSON.stringify(r.stdout));
  assert.match(r.stdout, /summary: {4}hi\\u001b\]0;owned\\u0007\\u001b\[2J\\u009b31m/);
  const j = await runEnpkg(['info', 'trick', '--repo', repo, '--json'], { env });
  assert.ok(!/[\x1b\x07\u009b]/.test(j.stdout));
  assert.equal((j.json as { packages: Array<{ summary: string }> }).packages[0]!.summary, doc.packages['trick-1.0-1.egg'].summary);
});

test('enpkg config: the effective configuration; an unknown key names the key and the file', async (t) => {
  const { dir, repo, env } = await repoWith(t, []);
  const cfg = join(dir, 'enpkg.yaml');
  writeFileSync(cfg, `python: "2.7"\nrepositories:\n  - ${JSON.stringify(repo)}\n`);
  const shown = await runEnpkg(['config', '--json'], { env: { ...env, ENPKG_CONFIG: cfg, ENPKG_PREFIX: join(dir, 'p') } });
  assert.equal(shown.code, 0, shown.stderr);
  const c = (shown.json as { config: Record<string, unknown> }).config;
  assert.deepEqual([c.file, c.prefix, c.prefix_source, c.python], [cfg, join(dir, 'p'), 'ENPKG_PREFIX', '2.7']);
  writeFileSync(cfg, 'repositories: []\nnetwork:\n  retries: 2\n  proxi: http://x\n');
  const bad = await runEnpkg(['config'], { env: { ...env, ENPKG_CONFIG: cfg } });
  assert.equal(bad.code, 1);
  assert.equal(bad.stderr.split('\n')[0], `enpkg: error: ${cfg}: network.proxi: unknown key`);
  assert.match(bad.stderr, /hint: the keys allowed here are: connect_timeout, idle_timeout/);
  const none = await runEnpkg(['search'], { env });
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no repositories configured\n {2}hint: .*--repo/);
});
