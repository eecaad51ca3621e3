/**
 * enpkg as an Enstaller user's scripts run it: no terminal, stdin closed, an `~/.enstaller4rc`
 * written the way Enstaller's template wrote it. Each spelling and key is checked by its effect on
 * the prefix (or on the configuration shown), not only by the exit status. `--userpass` runs under a
 * pseudo-terminal (python3's pty module).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { enpkgBin, fixturePath, localRepo, runEnpkg, runProgram, type RunResult } from './helpers/index.js';

const EGGS = ['app-1.0.0-1', 'app-1.1.0-1', 'libfoo-1.0.0-1', 'libfoo-1.1.0-1', 'libbar-2.0-1', 'data-1.0-1', 'upg-1.0-1', 'upg-2.0-1'];
// The values docs/enstaller.md gives for Linux.
const ARCH = process.arch === 'x64' ? 'amd64' : process.arch === 'ia32' ? 'x86' : process.arch;
const SUBDIR = `rh5-${process.arch === 'x64' ? '64' : process.arch === 'ia32' ? '32' : process.arch}`;
const PLATFORM = `rh5_${process.arch === 'x64' ? 'x86_64' : process.arch === 'ia32' ? 'x86' : process.arch}`;

interface World {
  root: string;
  repo: string;
  prefix: string;
  home: string;
  env: Record<string, string>;
  /** enpkg with only the arguments given: the configuration comes from the files. */
  run(args: string[], extra?: Record<string, string | undefined>): Promise<RunResult>;
  /** The installed set, as `key version-build` (`(auto)` when not marked). */
  installed(): Promise<string[]>;
}

/** Enstaller's template, filled in: comments, a multi-line list, True/False/None. */
function enstaller4rc(w: { repo: string; prefix: string }, extra = ''): string {
  return `# enstaller configuration file
# ==============================
#
# This file contains the default package repositories, and your user
# account information, which is used by enpkg.

# Enthought account information.  (EPD_auth = base64 of "user:password")
#EPD_auth = 'dXNlcjpwYXNzd29yZA=='

# The enpkg repositories
IndexedRepos = [
  '${w.repo}',
#  'https://www.enthought.com/repo/ets/eggs/{SUBDIR}/',
]

# Install prefix (enpkg --prefix and --sys-prefix options overwrite this)
prefix = '${w.prefix}'

# When True, enpkg checks for new version of enstaller itself before installing
autoupdate = False
noapp = True
use_webservice = False
proxy = None
${extra}`;
}

async function world(t: TestContext, opts: { rc?: boolean } = {}): Promise<World> {
  const { root, repo, prefix, home, env: base } = await localRepo(t, EGGS, 'enpkg-enstaller-');
  const env = { ...base, XDG_DATA_HOME: join(home, '.local', 'share') };
  if (opts.rc !== false) writeFileSync(join(home, '.enstaller4rc'), enstaller4rc({ repo, prefix }));
  const run = (args: string[], extra: Record<string, string | undefined> = {}) => runEnpkg(args, { env: { ...env, ...extra } });
  return {
    root,
    repo,
    prefix,
    home,
    env,
    run,
    installed: async () => {
      const r = await run(['list', '--json']);
      assert.equal(r.code, 0, r.stderr);
      return (r.json as { packages: { key: string; version: string; build: number; marked: boolean }[] }).packages.map(
        (p) => `${p.key} ${p.version}-${p.build}${p.marked ? '' : ' (auto)'}`,
      );
    },
  };
}

function ok(r: RunResult, what: string): RunResult {
  assert.equal(r.code, 0, `${what}: exit ${r.code}\n${r.stdout}${r.stderr}`);
  return r;
}

test('the command line: a bare name installs, NAME VERSION pairs, options before or after the action', async (t) => {
  const w = await world(t);
  await t.test('enpkg -n app (and app -n) changes nothing', async () => {
    assert.match(ok(await w.run(['-n', 'app']), '-n app').stdout, /Would change .*\n {2}install {3}libbar/);
    ok(await w.run(['app', '-n']), 'app -n');
    assert.ok(!existsSync(join(w.prefix, 'EGG-INFO')), 'nothing installed by a dry run');
  });
  await t.test('enpkg app 1.0.0 installs app 1.0.0, not the newest', async () => {
    ok(await w.run(['app', '1.0.0', '-y']), 'app 1.0.0');
    assert.deepEqual(await w.installed(), ['app 1.0.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.0.0-1 (auto)']);
  });
  await t.test('enpkg --prefix P -l, enpkg -l PATTERN', async () => {
    const l = ok(await w.run(['--prefix', w.prefix, '-l']), '--prefix P -l');
    assert.match(l.stdout, /^app +1\.0\.0-1 +manual/m);
    const pat = ok(await w.run(['-l', 'lib']), '-l lib').stdout;
    assert.deepEqual(
      pat
        .trim()
        .split('\n')
        .map((x) => x.split(/\s+/)[0]),
      ['libbar', 'libfoo'],
    );
  });
  await t.test('-s PATTERN, -i NAME, --whats-new, --freeze', async () => {
    assert.match(ok(await w.run(['-s', 'upg']), '-s').stdout, /^upg +1\.0-1/m);
    assert.match(ok(await w.run(['app', '-i']), 'app -i').stdout, /^Package: app\nInstalled: 1\.0\.0-1/);
    const news = ok(await w.run(['--whats-new']), '--whats-new').stdout;
    assert.match(news, /^Name {22}installed {12}available\n={60}\n/);
    assert.match(news, /^app +1\.0\.0-1 +1\.1\.0-1$/m);
    assert.match(news, /^libfoo +1\.0\.0-1 +1\.1\.0-1$/m);
    assert.equal(ok(await w.run(['--freeze']), '--freeze').stdout, 'app 1.0.0-1\nlibbar 2.0-1\nlibfoo 1.0.0-1\n');
  });
  await t.test('-f reinstalls the named package; --forceall every one; -N only the named', async () => {
    const f = ok(await w.run(['app', '1.0.0', '-f', '-y', '--json']), '-f');
    assert.deepEqual((f.json as { actions: unknown[] }).actions.length, 1);
    const all = ok(await w.run(['app', '1.0.0', '--forceall', '-y', '--json']), '--forceall');
    assert.equal((all.json as { actions: unknown[] }).actions.length, 3);
    ok(await w.run(['-N', 'data', '-y', '-q']), '-N data');
    assert.ok(existsSync(join(w.prefix, 'share', 'data', 'table.csv')));
  });
  await t.test('--update-all, -q prints nothing, -v prints the steps', async () => {
    const q = ok(await w.run(['--update-all', '-y', '-q']), '--update-all -q');
    assert.equal(q.stdout, '');
    assert.deepEqual(await w.installed(), ['app 1.1.0-1', 'data 1.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.1.0-1 (auto)']);
    const v = ok(await w.run(['upg', '-y', '-v']), 'upg -v');
    assert.match(v.stderr, /reading 1 repository index/);
  });
  await t.test('--remove NAME -y, then --revert REV -y', async () => {
    ok(await w.run(['--remove', 'upg', '-y']), '--remove upg');
    assert.ok(!(await w.installed()).some((p) => p.startsWith('upg ')));
    ok(await w.run(['-y', '--revert', '1']), '--revert 1');
    assert.deepEqual(await w.installed(), ['app 1.0.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.0.0-1 (auto)']);
  });
  await t.test('two actions at once, and an action given arguments it does not take, are usage errors', async () => {
    const two = await w.run(['-l', '--freeze']);
    assert.equal(two.code, 2);
    assert.match(two.stderr, /give one action, not both -l and --freeze/);
    const extra = await w.run(['--log', 'numpy']);
    assert.equal(extra.code, 2);
    assert.match(extra.stderr, /--log takes no other arguments/);
  });
  await t.test('enpkg --help lists the Enstaller spellings', async () => {
    const h = ok(await w.run(['--help']), '--help').stdout;
    for (const s of ['--remove NAME', '--revert REV', '--whats-new', '--userpass', '-c/--config-path', '--sys-prefix'])
      assert.ok(h.includes(s), `--help names ${s}`);
  });
});

test('--log prints Enstaller format; an imported enpkg.hist keeps its zone and is kept up to date; revert restores marks', async (t) => {
  const w = await world(t);
  mkdirSync(w.prefix);
  const hist = join(w.prefix, 'enpkg.hist');
  writeFileSync(
    hist,
    '==> 2011-08-01 21:17:22 CDT <==\nappinst-2.1.0-1.egg\nbasemap-1.0.1-1.egg\n' +
      '==> 2011-08-01 22:38:37 CDT <==\n-basemap-1.0.1-1.egg\n+basemap-1.0.2-1.egg\n+numpy-1.6.1-2.egg\n',
  );
  ok(await w.run(['app', '1.0.0', '-y']), 'install');
  const log = ok(await w.run(['--log']), '--log').stdout.split('\n');
  assert.deepEqual(log.slice(0, 6), [
    '2011-08-01 21:17:22 CDT  (rev 0)',
    '    appinst-2.1.0-1.egg',
    '    basemap-1.0.1-1.egg',
    '2011-08-01 22:38:37 CDT  (rev 1)',
    '     basemap  (1.0.1-1 -> 1.0.2-1)',
    '    +numpy-1.6.1-2',
  ]);
  assert.match(
    log.slice(6).join('\n'),
    /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC {2}\(rev 3\)\n {4}\+app-1\.0\.0-1\n {4}\+libbar-2\.0-1\n {4}\+libfoo-1\.0\.0-1$/m,
  );
  const text = readFileSync(hist, 'utf8');
  assert.ok(text.startsWith('==> 2011-08-01 21:17:22 CDT <==\nappinst-2.1.0-1.egg\n'), 'the imported blocks are kept');
  assert.match(text, /==> \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC <==\n\+app-1\.0\.0-1\.egg\n\+libbar-2\.0-1\.egg\n\+libfoo-1\.0\.0-1\.egg\n$/);
  assert.equal(text.match(/^==>/gm)!.length, 4, 'one block per revision: block N is revision N');

  // Marks: libfoo made manual after revision 3, then everything removed; revert 3 brings back the
  // marks of revision 3 (libfoo a dependency again), not those of now.
  ok(await w.run(['mark', '--manual', 'libfoo']), 'mark');
  ok(await w.run(['--remove', 'app', 'libfoo', 'libbar', '-y']), 'remove');
  ok(await w.run(['--revert', '3', '-y']), 'revert');
  assert.deepEqual(await w.installed(), ['app 1.0.0-1', 'libbar 2.0-1 (auto)', 'libfoo 1.0.0-1 (auto)']);
  assert.equal(readFileSync(hist, 'utf8').match(/^==>/gm)!.length, 6, 'the removal and the revert are in enpkg.hist too');
});

test('.enstaller4rc: keys mapped, keys without meaning warned about, EPD_auth never shown, code refused and never run', async (t) => {
  const w = await world(t, { rc: false });
  const rc = join(w.home, '.enstaller4rc');
  const secret = Buffer.from('alice:s3cret-pw').toString('base64');
  writeFileSync(
    rc,
    enstaller4rc(
      { repo: 'https://eggs.example.com/{ARCH}/{SUBDIR}/{PLATFORM}/', prefix: w.prefix },
      `EPD_auth = '${secret}'\nverify_ssl = False\nmax_retries = 7\nuse_pypi = True\n`,
    ),
  );
  const shown = ok(await w.run(['--config', '--json']), '--config');
  const config = (shown.json as { config: Record<string, unknown> }).config as {
    file: string;
    format: string;
    prefix: string;
    autoupdate: boolean;
    network: { retries: number; verify_ssl: boolean };
    repositories: { url: string; auth: { credentials: string } }[];
  };
  assert.equal(config.file, rc);
  assert.equal(config.format, 'enstaller4rc');
  assert.equal(config.prefix, w.prefix);
  assert.equal(config.autoupdate, false);
  assert.deepEqual([config.network.retries, config.network.verify_ssl], [7, false]);
  assert.equal(config.repositories[0]!.url.split('/').slice(3, 6).join('/'), `${ARCH}/${SUBDIR}/${PLATFORM}`);
  assert.match(config.repositories[0]!.auth.credentials, /^\*\*\* \(written in .*\.enstaller4rc\)$/);
  const text = ok(await w.run(['--config']), '--config text');
  for (const out of [shown.stdout, shown.stderr, text.stdout, text.stderr]) {
    assert.ok(!out.includes('s3cret') && !out.includes(secret), 'EPD_auth is never printed');
  }
  assert.match(text.stderr, /warning: .*use_pypi is ignored: it has no meaning here/);
  assert.equal(text.stderr.match(/use_pypi/g)!.length, 1, 'warned once');

  const marker = join(w.root, 'ran');
  writeFileSync(rc, `import os\nos.system('touch ${marker}')\nIndexedRepos = ['${w.repo}']\n`);
  const bad = await w.run(['-l', '--prefix', w.prefix]);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /\.enstaller4rc line 1: expected "=", found "os"/);
  assert.match(bad.stderr, /it is never run/);
  writeFileSync(rc, `IndexedRepos = __import__('os').system('touch ${marker}')\n`);
  assert.equal((await w.run(['-l', '--prefix', w.prefix])).code, 1);
  assert.ok(!existsSync(marker), 'nothing in the file was run');
});

test('.enstaller4rc with {ARCH} installs from the directory it names; the prefix one comes before the home one', async (t) => {
  const w = await world(t, { rc: false });
  const archDir = join(w.root, 'eggs', ARCH);
  mkdirSync(archDir, { recursive: true });
  copyFileSync(fixturePath('eggs', 'data-1.0-1.egg'), join(archDir, 'data-1.0-1.egg'));
  ok(await runEnpkg(['repo', 'index', archDir], { env: w.env }), 'index');
  writeFileSync(join(w.home, '.enstaller4rc'), enstaller4rc({ repo: w.repo, prefix: w.prefix }));
  mkdirSync(w.prefix);
  writeFileSync(join(w.prefix, '.enstaller4rc'), `IndexedRepos = [\n    '${join(w.root, 'eggs', '{ARCH}')}',\n]\n`);
  const r = ok(await w.run(['--prefix', w.prefix, 'data', '-y']), 'install from {ARCH}');
  assert.doesNotMatch(r.stderr, /error/);
  assert.ok(existsSync(join(w.prefix, 'share', 'data', 'table.csv')));
  const search = ok(await w.run(['--prefix', w.prefix, '-s', 'app']), 'search');
  assert.match(search.stdout, /No package matches/, "the prefix's file (one repository, no app) is the one read");
});

test("Enstaller's YAML: store_url, authentication, files_cache, store-style names; unknown keys of ours stay errors", async (t) => {
  const w = await world(t, { rc: false });
  const file = join(w.root, 'enstaller.yaml');
  writeFileSync(
    file,
    [
      'store_url: "https://store.example.com"',
      'authentication:',
      '  kind: simple',
      '  username: bob',
      '  password: hunter22',
      'files_cache: "~/eggs/{PLATFORM}"',
      'repositories:',
      '  - "enthought/free"',
      '  - "https://other.example.com/eggs/"',
      'max_retries: 2',
      'use_webservice: true',
      '',
    ].join('\n'),
  );
  const r = ok(await w.run(['-c', file, '--config', '--json', '--prefix', w.prefix]), '-c FILE --config');
  const c = (r.json as { config: Record<string, unknown> }).config as {
    format: string;
    cache_dir: string;
    repositories: { url: string; auth: { user: string; password: string } }[];
    network: { retries: number };
  };
  assert.equal(c.format, 'enstaller-yaml');
  const platform = PLATFORM;
  assert.equal(c.repositories[0]!.url, `https://store.example.com/repo/enthought/free/${platform}/`);
  assert.equal(c.repositories[1]!.url, 'https://other.example.com/eggs/');
  assert.deepEqual(c.repositories[0]!.auth, { user: 'bob', password: `*** (written in ${file})` });
  assert.equal(c.cache_dir, join(w.home, 'eggs', platform));
  assert.equal(c.network.retries, 2);
  assert.ok(!r.stdout.includes('hunter22') && !r.stderr.includes('hunter22'));

  const token = join(w.root, 'token.yaml');
  writeFileSync(token, 'store_url: https://s.example.com\nauthentication: {kind: token, api_token: tok-123}\nrepositories: [a/b]\n');
  const tr = ok(await w.run(['--config', token, 'config', '--json']), '--config FILE config');
  assert.match(JSON.stringify(tr.json), /"token":"\*\*\* \(written in/);
  const basic = join(w.root, 'basic.yaml');
  writeFileSync(
    basic,
    `authentication: {kind: basic, auth: ${Buffer.from('u:p').toString('base64')}}\nrepositories: ["${w.repo}"]\nverify_ssl: true\n`,
  );
  ok(await w.run(['-c', basic, '--config']), 'basic');

  const ours = join(w.root, 'ours.yaml');
  writeFileSync(ours, `repositories: ["${w.repo}"]\nnetwork: {retries: 1}\nstore_url: https://x.example.com\n`);
  const mixed = await w.run(['-c', ours, '--config']);
  assert.equal(mixed.code, 1);
  assert.match(mixed.stderr, /ours\.yaml: store_url: unknown key/);
  const noStore = join(w.root, 'nostore.yaml');
  writeFileSync(noStore, 'files_cache: /tmp/x\nrepositories: ["org/repo"]\n');
  const ns = await w.run(['-c', noStore, '--config']);
  assert.equal(ns.code, 1);
  assert.match(ns.stderr, /repositories\[0\]: "org\/repo" is a repository name on a store, and no store_url is given/);
});

test('config --import-enstaller writes our YAML, its secrets in mode-0600 files; --add-url appends to the file in use', async (t) => {
  const w = await world(t, { rc: false });
  const rc = join(w.home, '.enstaller4rc');
  writeFileSync(rc, enstaller4rc({ repo: w.repo, prefix: w.prefix }, `EPD_auth = '${Buffer.from('carol:pw9').toString('base64')}'\n`));
  const before = ok(await w.run(['--config', '--json']), 'before').json as { config: Record<string, unknown> };
  const imp = ok(await w.run(['config', '--import-enstaller', '--json']), 'import');
  const written = (imp.json as { file: string; secretFiles: string[] }).file;
  assert.equal(written, join(w.home, '.config', 'enpkg', 'config.yaml'));
  const yaml = readFileSync(written, 'utf8');
  assert.ok(!yaml.includes('pw9'), 'the password is not in the configuration');
  assert.match(yaml, /credentials:\n\s+file: credentials/);
  const cred = join(w.home, '.config', 'enpkg', 'credentials');
  assert.equal(readFileSync(cred, 'utf8'), 'carol:pw9\n');
  assert.equal(statSync(cred).mode & 0o777, 0o600);
  const after = ok(await w.run(['--config', '--json']), 'after').json as { config: { file: string; repositories: unknown[] } };
  assert.equal(after.config.file, written, 'our file comes before ~/.enstaller4rc');
  assert.deepEqual(
    after.config.repositories.map((r) => (r as { path: string }).path),
    (before.config.repositories as { path: string }[]).map((r) => r.path),
  );
  assert.equal((await w.run(['config', '--import-enstaller'])).code, 1, 'never over an existing file');

  // --add-url: appended to the YAML in use (comments kept), then to a .enstaller4rc in use.
  writeFileSync(written, `# mine\n${yaml}`);
  ok(await w.run(['--add-url', 'https://new.example.com/eggs/']), '--add-url');
  const edited = readFileSync(written, 'utf8');
  assert.match(edited, /^# mine/);
  const urls = (ok(await w.run(['--config', '--json']), 'c').json as { config: { repositories: { url?: string }[] } }).config.repositories;
  assert.equal(urls.at(-1)!.url, 'https://new.example.com/eggs/');
  const rcOnly = await world(t);
  ok(await rcOnly.run(['--add-url', 'https://two.example.com/x/']), '--add-url into .enstaller4rc');
  const rcText = readFileSync(join(rcOnly.home, '.enstaller4rc'), 'utf8');
  assert.match(rcText, /IndexedRepos = \[\n {2}'.*repo',\n#.*\n {4}'https:\/\/two\.example\.com\/x\/',\n\]/);
  const none = await world(t, { rc: false });
  const created = ok(await none.run(['--add-url', none.repo, '--json']), '--add-url creates');
  assert.equal((created.json as { created: boolean }).created, true);
  ok(await none.run(['data', '-y', '--prefix', none.prefix]), 'install from the added repository');
  assert.ok(existsSync(join(none.prefix, 'share', 'data', 'table.csv')));
});

test('--userpass asks on a pseudo-terminal, stores a mode-0600 credentials file; off a terminal it refuses', async (t) => {
  const w = await world(t, { rc: false });
  const driver = `
import os, pty, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
out = b''
def until(word):
    global out
    while word not in out:
        chunk = os.read(fd, 1024)
        if not chunk: raise SystemExit('ended before ' + word.decode())
        out += chunk
until(b'User name: ')
os.write(fd, b'dave\\r')
until(b'Password: ')
os.write(fd, b'pa55word\\r')
while True:
    try:
        chunk = os.read(fd, 1024)
    except OSError:
        break
    if not chunk: break
    out += chunk
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf8', 'replace'))
sys.exit(os.waitstatus_to_exitcode(status))
`;
  const script = join(w.root, 'drive.py');
  writeFileSync(script, driver);
  const r = await runProgram('python3', [script, process.execPath, enpkgBin, '--userpass'], { env: w.env });
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.ok(!r.stdout.includes('pa55word'), 'the password is not echoed');
  const cred = join(w.home, '.config', 'enpkg', 'credentials');
  assert.equal(readFileSync(cred, 'utf8'), 'dave:pa55word\n');
  assert.equal(statSync(cred).mode & 0o777, 0o600);
  const cfg = readFileSync(join(w.home, '.config', 'enpkg', 'config.yaml'), 'utf8');
  assert.ok(!cfg.includes('pa55word'));
  assert.match(cfg, /auth:\n\s+credentials:\n\s+file: credentials/);
  const off = await w.run(['--userpass']);
  assert.equal(off.code, 2);
  assert.match(off.stderr, /asks on a terminal, and there is none/);
});

test('a removal that takes packages not named is refused off a terminal without -y; -N leaving others broken takes --force', async (t) => {
  const w = await world(t);
  ok(await w.run(['app', '1.0.0', '-y']), 'install');
  const refused = await w.run(['--remove', 'libfoo']);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /would also remove 2 packages you did not name: app 1\.0\.0-1, libbar 2\.0-1; nothing was changed/);
  assert.match(refused.stderr, /add -y/);
  const json = await w.run(['remove', 'libfoo', '--json']);
  assert.equal((json.json as { error: { code: string } }).error.code, 'REMOVE_NOT_CONFIRMED', '--json cannot answer for a user either');
  assert.equal((await w.installed()).length, 3, 'nothing was removed');
  const broken = await w.run(['--remove', 'libfoo', '-N']);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /would leave others broken: app needs libfoo/);
  assert.match(broken.stderr, /--force/);
  const plan = ok(await w.run(['--remove', 'libfoo', '-N', '-f', '-n']), 'plan');
  assert.match(plan.stdout, /remove {4}libfoo 1\.0\.0-1 \(requested; leaves app broken, which needs it\)/);
  ok(await w.run(['--remove', 'libfoo', '-N', '--force']), 'forced');
  assert.deepEqual(await w.installed(), ['app 1.0.0-1', 'libbar 2.0-1 (auto)']);
  ok(await w.run(['--remove', 'app', '-y']), 'with -y');
  assert.deepEqual(await w.installed(), []);
});

test('networking: a bad proxy names its variable, key or option; -k warns; an unreachable second repository is a warning', async (t) => {
  const w = await world(t);
  const down = 'https://127.0.0.1:9/';
  const env = await w.run(['-s', 'x', '--repo', down], { HTTPS_PROXY: '::bad::' });
  assert.equal(env.code, 1);
  assert.match(env.stderr, /error: the environment variable HTTPS_PROXY: the proxy is not valid: it is not a URL/);
  assert.doesNotMatch(env.stderr, /internal error|TypeError/);
  const opt = await w.run(['-s', 'x', '--proxy', 'ftp://proxy.example.com']);
  assert.equal(opt.code, 1);
  assert.match(opt.stderr, /--proxy: the proxy is not valid: the scheme ftp is not http or https/);
  const cfg = join(w.root, 'proxy.yaml');
  writeFileSync(cfg, 'network:\n  proxy: "http://u:pw@proxy.example.com:3128"\n');
  const key = await w.run(['--config', cfg, 'config']);
  assert.equal(key.code, 1);
  assert.match(key.stderr, /proxy\.yaml: network\.proxy: a password written in the configuration file/);
  writeFileSync(cfg, 'network:\n  proxy: {url: "http://proxy.example.com:3128", user: u, password: {env: PROXY_PW}}\n');
  const shown = ok(await w.run(['--config', cfg, 'config', '--json']), 'proxy key');
  assert.deepEqual((shown.json as { config: { network: { proxy: unknown } } }).config.network.proxy, {
    url: 'http://proxy.example.com:3128/',
    user: 'u',
    password: '*** (from $PROXY_PW)',
    origin: `${cfg}: network.proxy`,
  });
  const rcProxy = ok(await w.run(['--config', '--json', '--proxy', 'john:doe@proxy.example.com:3128']), '--proxy');
  assert.match(
    JSON.stringify(rcProxy.json),
    /"url":"http:\/\/proxy\.example\.com:3128\/","user":"john","password":"\*\*\* \(written in --proxy\)"/,
  );

  const k = await w.run(['-s', 'x', '--repo', down, '-k', '--max-retries', '0']);
  assert.equal(k.code, 1);
  assert.match(k.stderr, /warning: TLS certificates are not verified \(-k\/--insecure/);
  const noK = await w.run(['-s', 'x', '--repo', down, '--max-retries', '0']);
  assert.doesNotMatch(noK.stderr, /not verified/);

  const both = ok(await w.run(['data', '-y', '--repo', w.repo, '--repo', down, '--max-retries', '0']), 'one repository down');
  assert.match(both.stderr, /warning: repository https:\/\/127\.0\.0\.1:9\/ was left out: .*ECONNREFUSED/);
  assert.match(both.stdout, /planned without repository https:\/\/127\.0\.0\.1:9\/: unreachable/);
  assert.ok(existsSync(join(w.prefix, 'share', 'data', 'table.csv')));
  const missing = await w.run(['nothere', '-y', '--repo', w.repo, '--repo', down, '--max-retries', '0']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /error: .*nothere.*\(the repository https:\/\/127\.0\.0\.1:9\/ was not reachable, and may have it\)/);
});

test('--config FILE still names a file; --max-retries, --no-autoupdate; --user, --sys-prefix, --sys-config', async (t) => {
  const w = await world(t);
  const file = join(w.root, 'mine.yaml');
  writeFileSync(file, `repositories: ["${w.repo}"]\nautoupdate: true\n`);
  const c = ok(await w.run(['--config', file, '--max-retries', '0', '--no-autoupdate', '--config', '--json']), '--config FILE --config');
  const cfg = (c.json as { config: { file: string; autoupdate: boolean; network: { retries: number } } }).config;
  assert.deepEqual([cfg.file, cfg.autoupdate, cfg.network.retries], [file, false, 0]);
  const badRetries = await w.run(['--config', '--max-retries', 'many']);
  assert.equal(badRetries.code, 2);

  ok(await w.run(['--user', 'data', '-y']), '--user');
  const userPrefix = join(w.home, '.local', 'share', 'enpkg', 'prefix');
  assert.ok(existsSync(join(userPrefix, 'share', 'data', 'table.csv')), 'installed into the per-user prefix');
  assert.equal((await w.run(['--user', '--prefix', w.prefix, '-l'])).code, 2, 'two prefixes are a usage error');

  const sys = join(w.root, 'sys');
  mkdirSync(sys);
  writeFileSync(join(sys, '.enstaller4rc'), `IndexedRepos = ['${w.repo}']\n`);
  const sp = ok(await w.run(['--sys-prefix', 'upg', '-y'], { ENPKG_HOME: sys }), '--sys-prefix');
  assert.doesNotMatch(sp.stderr, /error/);
  assert.ok(existsSync(join(sys, 'EGG-INFO', 'upg')), 'installed into the launcher prefix');
  const noLauncher = await w.run(['--sys-prefix', '-l']);
  assert.equal(noLauncher.code, 2);
  assert.match(noLauncher.stderr, /--sys-prefix: enpkg is not running from a prefix/);
  const sc = ok(await w.run(['--sys-config', '--prefix', sys, '--config', '--json']), '--sys-config');
  assert.equal((sc.json as { config: { file: string } }).config.file, join(sys, '.enstaller4rc'));
  const scNone = ok(await w.run(['--sys-config', '--prefix', w.prefix, '--config', '--json']), '--sys-config, none');
  assert.equal((scNone.json as { config: { file: string | null } }).config.file, null, "the user's ~/.enstaller4rc is not read");
});

test("--env shows the prefix, its Python and the variables; --imports what the prefix's Python can import", async (t) => {
  const w = await world(t);
  // Installed first: the fixture eggs are for python 2.7, which a prefix with its own python3 would not be offered.
  ok(await w.run(['app', 'data', '-y']), 'install');
  mkdirSync(join(w.prefix, 'bin'), { recursive: true });
  // The prefix's own Python: python3, seeing the prefix's site-packages.
  const python = join(w.prefix, 'bin', 'python');
  writeFileSync(
    python,
    '#!/bin/sh\n[ "$1" = "-E" ] && shift\nP=$(cd "$(dirname "$0")/.." && pwd)\n' +
      'for d in "$P"/lib/python*/site-packages; do PYTHONPATH=$d; done\n' +
      'export PYTHONPATH\nexec python3 "$@"\n',
  );
  chmodSync(python, 0o755);
  const env = ok(await w.run(['--env'], { HTTPS_PROXY: 'http://user:topsecret@proxy.example.com:3128' }), '--env').stdout;
  assert.match(env, new RegExp(`^prefix: +${w.prefix} \\(from .*\\.enstaller4rc\\)$`, 'm'));
  assert.match(env, new RegExp(`^python: +${python} \\(3\\.\\d+\\)$`, 'm'));
  assert.match(env, /^ {4}HTTPS_PROXY=http:\/\/.*proxy\.example\.com:3128/m);
  assert.ok(!env.includes('topsecret'), 'proxy credentials are redacted');
  const imports = ok(await w.run(['--imports']), '--imports').stdout;
  assert.match(imports, /^Name +Version +Location\n=+$/m);
  assert.match(imports, new RegExp(`^app +1\\.1\\.0-1 +${w.prefix}/lib/python[\\d.]+/site-packages/app/__init__\\.py$`, 'm'));
  assert.match(imports, /^data +1\.0-1 +\(no Python modules\)$/m);
  execFileSync('rm', ['-rf', join(w.prefix, 'lib')]);
  assert.match(ok(await w.run(['--imports']), 'after').stdout, /^app +1\.1\.0-1 +-$/m, 'gone from site-packages: not importable');
});
