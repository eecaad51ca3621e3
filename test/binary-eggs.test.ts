/**
 * Binary eggs work in the prefix they are installed into (docs/binary-eggs.md): object code built
 * by gcc at fixture time with /PLACEHOLD search paths runs with LD_LIBRARY_PATH unset, a Python
 * extension module imports, scripts get the prefix's Python, and setuptools metadata is there.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { verifyInstalled, type InstallRecord } from 'egginst';
import { fixturePath, listZip, realEgg, runEgginst, runProgram, tempDir, treeHash } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');
const firstLine = (path: string): string => readFileSync(path, 'utf8').split('\n')[0]!;
const pythonVersion = execFileSync('python3', ['-c', 'import sys; print("%d.%d" % sys.version_info[:2])'], { encoding: 'utf8' }).trim();
const pathPython = execFileSync('sh', ['-c', 'command -v python3'], { encoding: 'utf8' }).trim();
const noLibraryPath = { LD_LIBRARY_PATH: undefined };

function record(prefix: string, key: string): InstallRecord {
  return JSON.parse(readFileSync(join(prefix, 'EGG-INFO', key, 'egginst.json'), 'utf8')) as InstallRecord;
}

/** Every file record's sha256 and size are those of the file on disk. */
function assertRecordMatches(prefix: string, key: string): void {
  const rec = record(prefix, key);
  for (const r of rec.records ?? []) {
    if (r.kind !== 'file') continue;
    const data = readFileSync(join(prefix, r.path));
    assert.equal(r.sha256, sha256(data), `record hash of ${r.path}`);
    assert.equal(r.size, data.length, `record size of ${r.path}`);
  }
  assert.deepEqual(verifyInstalled(prefix, key).problems, [], `verify ${key}`);
}

function venv(dir: string): string {
  execFileSync('python3', ['-m', 'venv', '--without-pip', dir]);
  return dir;
}

test('ELF programs with RPATH and RUNPATH placeholders run from the prefix, LD_LIBRARY_PATH unset', async (t) => {
  const root = await tempDir(t, 'binary-');
  const archive = new Map((await listZip(egg('reloc-1.0-1'))).map((e) => [e.name, e.content]));
  for (const prefix of [join(root, 'one'), join(root, 'second-prefix')]) {
    const r = await runEgginst(['--prefix', prefix, '--no-fsync', egg('reloc-1.0-1')]);
    assert.equal(r.code, 0, r.stderr);
    for (const program of ['reloc-rpath', 'reloc-runpath']) {
      const run = await runProgram(join(prefix, 'bin', program), [], { env: noLibraryPath });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.stdout, 'hello from libreloc\n');
      const data = readFileSync(join(prefix, 'bin', program));
      assert.ok(data.includes(`${prefix}/lib/reloc:${prefix}/lib\0`), `${program} searches the targets.dat directory, then lib`);
      assert.ok(!data.includes('/PLACEHOLD'), `no placeholder is left in ${program}`);
      assert.equal(data.length, archive.get(`EGG-INFO/usr/bin/${program}`)!.length, 'relocation does not change the size');
    }
    // The library has no placeholder: installed as it is in the archive.
    assert.equal(
      sha256(readFileSync(join(prefix, 'lib/reloc/libreloc.so'))),
      sha256(archive.get('EGG-INFO/prefix/lib/reloc/libreloc.so')!),
    );
    assertRecordMatches(prefix, 'reloc');
    const rec = record(prefix, 'reloc').records!.find((x) => x.path === 'bin/reloc-rpath')!;
    assert.notEqual(rec.sha256, sha256(archive.get('EGG-INFO/usr/bin/reloc-rpath')!), 'the record holds the rewritten hash');
  }
  const rm = await runEgginst(['--prefix', join(root, 'one'), '--remove', 'reloc']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(!existsSync(join(root, 'one', 'bin', 'reloc-rpath')));
});

test('a Python extension module linking a prefix library through a placeholder imports; scripts and metadata', async (t) => {
  const prefix = venv(join(await tempDir(t, 'binary-'), 'venv'));
  const python = join(prefix, 'bin', 'python');
  const sp = join(prefix, 'lib', `python${pythonVersion}`, 'site-packages');
  const r = await runEgginst(['--prefix', prefix, '--no-fsync', egg('relocpy-1.0-1')]);
  assert.equal(r.code, 0, r.stderr);

  const imp = await runProgram(python, ['-c', 'import relocext; print(relocext.hello())'], { env: noLibraryPath });
  assert.equal(imp.stdout, 'hello from librelochelp\n', imp.stderr);
  assert.ok(existsSync(join(sp, 'relocext.so')), 'the egg names no python: the prefix interpreter decides site-packages');
  assert.ok(!existsSync(join(sp, 'relocext.py')) && !existsSync(join(sp, 'relocext.pyo')), 'no .py/.pyo beside the .so');

  // Entry point, and the egg's own scripts with their shebangs rewritten (arguments kept).
  assert.equal(firstLine(join(prefix, 'bin', 'relocpy-hello')), `#!${python}`);
  assert.equal(firstLine(join(prefix, 'bin', 'relocpy-script')), `#!${python} -E`);
  assert.equal(firstLine(join(prefix, 'bin', 'relocpy-env')), `#!${python}`);
  const hello = await runProgram(join(prefix, 'bin', 'relocpy-hello'), [], { env: noLibraryPath });
  assert.equal(hello.stdout, `hello from librelochelp via ${python}\n`, hello.stderr);
  const script = await runProgram(join(prefix, 'bin', 'relocpy-script'), [], { env: noLibraryPath });
  assert.equal(script.stdout, `script: hello from librelochelp via ${python}\n`, script.stderr);
  const env = await runProgram(join(prefix, 'bin', 'relocpy-env'), []);
  assert.equal(env.stdout, `env script via ${python}\n`, env.stderr);
  assertRecordMatches(prefix, 'relocpy');

  // setuptools metadata: importlib.metadata (in a subprocess) and pip see it.
  assert.ok(existsSync(join(sp, 'relocpy-1.0-1.egg-info', 'PKG-INFO')));
  assert.ok(!existsSync(join(sp, 'relocpy-1.0-1.egg-info', 'spec')), 'spec/ is Enstaller-only');
  const version = 'import importlib.metadata as m; print(m.version("relocpy"))';
  const meta = await runProgram(python, ['-c', version]);
  assert.equal(meta.stdout, '1.0\n', meta.stderr);
  const entryPoints = await runProgram(python, ['-c', 'import importlib.metadata as m; print(m.distribution("relocpy").entry_points)']);
  assert.match(entryPoints.stdout, /relocpy-hello/);
  const pip = await runProgram('python3', ['-m', 'pip', 'list', '--path', sp, '--format=json', '--disable-pip-version-check']);
  if (pip.code === 0) assert.deepEqual(JSON.parse(pip.stdout), [{ name: 'relocpy', version: '1.0' }]);
  else t.diagnostic(`pip is not installed for python3 (${pip.stderr.trim().split('\n').pop()}): pip list not checked`);

  const rm = await runEgginst(['--prefix', prefix, '--remove', 'relocpy']);
  assert.equal(rm.code, 0, rm.stderr);
  assert.ok(!existsSync(join(sp, 'relocpy-1.0-1.egg-info')), 'uninstall removes the metadata');
  assert.ok(!existsSync(join(prefix, 'lib', 'librelochelp.so')));
  assert.notEqual((await runProgram(python, ['-c', version])).code, 0);
});

test('without <prefix>/bin/python, entry points and shebangs use python3 on PATH; --python wins over both', async (t) => {
  const root = await tempDir(t, 'binary-');
  const plain = join(root, 'plain');
  assert.equal((await runEgginst(['--prefix', plain, '--no-fsync', egg('relocpy-1.0-1')])).code, 0);
  assert.equal(firstLine(join(plain, 'bin', 'relocpy-hello')), `#!${pathPython}`);
  assert.equal(firstLine(join(plain, 'bin', 'relocpy-script')), `#!${pathPython} -E`);
  assert.ok(existsSync(join(plain, 'lib', `python${pythonVersion}`, 'site-packages', 'relocext.so')));

  const chosen = join(root, 'py with space', 'python');
  mkdirSync(join(root, 'py with space'));
  writeFileSync(chosen, `#!/bin/sh\nexec ${pathPython} "$@"\n`, { mode: 0o755 });
  const own = join(root, 'own');
  const r = await runEgginst(['--prefix', own, '--no-fsync', '--python', chosen, egg('relocpy-1.0-1')]);
  assert.equal(r.code, 0, r.stderr);
  // A path with a space cannot be a #! line: a /bin/sh trampoline that Python reads as a string.
  assert.equal(
    readFileSync(join(own, 'bin', 'relocpy-env'), 'utf8')
      .split('\n')
      .slice(0, 3)
      .join('\n'),
    `#!/bin/sh\n'''exec' '${chosen}' "$0" "$@"\n' '''`,
  );
  const run = await runProgram(join(own, 'bin', 'relocpy-env'), []);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /^env script via /);
});

test("the prefix's bin/python<X.Y> of the egg is used when it has no bin/python or bin/python3", async (t) => {
  const prefix = join(await tempDir(t, 'binary-'), 'prefix');
  mkdirSync(join(prefix, 'bin'), { recursive: true });
  const py27 = join(prefix, 'bin', 'python2.7');
  writeFileSync(py27, `#!/bin/sh\nexec ${pathPython} "$@"\n`, { mode: 0o755 });
  const r = await runEgginst(['--prefix', prefix, '--no-fsync', realEgg('dummy_with_entry_points-1.0.0-1.egg')]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(firstLine(join(prefix, 'bin', 'dummy')), `#!${py27}`);
});

test('a placeholder too short for the prefix is refused, naming the file and both lengths; the prefix is unchanged', async (t) => {
  const prefix = join(await tempDir(t, 'binary-'), 'prefix');
  mkdirSync(prefix);
  assert.equal((await runEgginst(['--prefix', prefix, '--no-fsync', egg('reloc-1.0-1')])).code, 0);
  const before = await treeHash(prefix);
  const r = await runEgginst(['--prefix', prefix, '--json', egg('relocshort-1.0-1')]);
  assert.equal(r.code, 1, r.stderr);
  const { error } = r.json as { error: { code: string; message: string; details: Record<string, unknown> } };
  assert.equal(error.code, 'RELOCATION_TOO_LONG');
  assert.match(error.message, /relocshort-1\.0-1\.egg: entry EGG-INFO\/usr\/lib\/libshort\.so has a placeholder of 50 bytes/);
  const needed = `${prefix}/lib/${'x'.repeat(60)}:${prefix}/lib`.length;
  assert.match(error.message, new RegExp(`is ${needed} bytes long$`));
  assert.equal(await treeHash(prefix), before);
});
