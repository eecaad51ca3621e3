/**
 * One rule for whether a package suits an environment (python, platform and arch), asked by the
 * resolver, search and info, and the choice of enpkg's own egg alike.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parsePackageString, resolve, type IndexEntry, type LoadedRepository, type PackageInfo } from 'enpkg';
import { EnpkgErrorCodes } from '../src/errors.js';
import { environment, environmentMismatch, fitsEnvironment } from '../src/platform.js';
import { packageInfo, searchPackages } from '../src/repo/query.js';
import { selfCandidates } from '../src/self/choose.js';
import { install, request } from './helpers.js';

const env = { python: '3.11', platform: 'linux2', arch: 'amd64' };

test('fitsEnvironment: python, platform and arch each compared exactly; unset on either side matches', () => {
  assert.equal(fitsEnvironment({}, env), true);
  assert.equal(fitsEnvironment({ python: null, platform: null, arch: null }, env), true);
  assert.equal(fitsEnvironment({ python: '3.11', platform: 'linux2', arch: 'amd64' }, env), true);
  assert.equal(fitsEnvironment({ python: '3.10' }, env), false);
  assert.equal(fitsEnvironment({ platform: 'darwin' }, env), false);
  assert.equal(fitsEnvironment({ arch: 'x86' }, env), false);
  assert.equal(fitsEnvironment({ python: '3.10', platform: 'darwin', arch: 'x86' }, {}), true);
  assert.equal(fitsEnvironment({ python: '3.10' }, { ...env, python: null }), true);
  assert.equal(environmentMismatch({ arch: 'x86' }, env), 'is for arch x86 (not amd64)');
  assert.equal(environmentMismatch({ python: '2.7', arch: 'x86' }, env), 'is for python 2.7 (not 3.11)');
  const here = environment('3.12');
  assert.equal(here.python, '3.12');
  assert.equal(fitsEnvironment({ platform: here.platform, arch: here.arch }, here), true);
});

function entry(name: string, version: string, tags: Partial<IndexEntry> = {}): IndexEntry {
  return {
    name,
    key: name.toLowerCase(),
    version,
    build: 1,
    depends: [],
    python: null,
    platform: null,
    arch: null,
    eggName: `${name}-${version}-1.egg`,
    size: 10,
    sha256: 'a'.repeat(64),
    md5: null,
    mtime: null,
    summary: null,
    repository: 'main',
    ...tags,
  } as IndexEntry;
}

const repos = (entries: IndexEntry[]): LoadedRepository[] =>
  [{ config: { name: 'main' }, index: { entries } }] as unknown as LoadedRepository[];

test('search and info offer only what fits: another platform or arch is left out, like another Python', () => {
  const r = repos([
    entry('tool', '1.0'),
    entry('tool', '2.0', { platform: 'darwin' }),
    entry('tool', '3.0', { arch: 'x86' }),
    entry('tool', '4.0', { python: '2.7' }),
    entry('tool', '5.0', { python: '3.11', platform: 'linux2', arch: 'amd64' }),
  ]);
  const versions = searchPackages(r, [], 'tool', { environment: env })[0]!.versions.map((v) => v.version);
  assert.deepEqual(versions, ['1.0', '5.0']);
  assert.deepEqual(
    packageInfo(r, [], 'tool', { environment: env }).packages.map((p) => p.version),
    ['5.0', '1.0'],
  );
  assert.deepEqual(
    packageInfo(r, [], 'tool', { environment: {} }).packages.map((p) => p.version),
    ['5.0', '4.0', '3.0', '2.0', '1.0'],
  );
  assert.throws(
    () => packageInfo(repos([entry('mac', '1.0', { platform: 'darwin' })]), [], 'mac', { environment: env }),
    (e: unknown) => (e as { code: string }).code === EnpkgErrorCodes.PACKAGE_NOT_FOUND && /linux2/.test((e as Error).message),
  );
});

test("enpkg's own eggs are chosen by the same rule, Python included", () => {
  const enpkg = (v: string, tags: Partial<IndexEntry>) => entry('enpkg', v, tags);
  const picked = selfCandidates(
    [enpkg('1.0.0', {}), enpkg('1.1.0', { python: '2.7' }), enpkg('1.2.0', { platform: 'darwin' }), enpkg('1.3.0', { arch: 'x86' })],
    env,
  ).map((e) => e.version);
  assert.deepEqual(picked, ['1.0.0']);
});

test('the resolver excludes what does not fit', () => {
  const tagged = (s: string, tags: Partial<PackageInfo>): PackageInfo => ({ ...parsePackageString(s), ...tags });
  const available = [tagged('tool 1.0-1', {}), tagged('tool 2.0-1', { arch: 'x86' })];
  const solution = resolve({ ...request(available, { jobs: [install('tool')] }), environment: env });
  assert.deepEqual(
    solution.packages.map((p) => p.version),
    ['1.0'],
  );
  assert.throws(
    () => resolve({ ...request(available, { jobs: [install('tool >= 2')] }), environment: env }),
    (e: unknown) => /available: 1\.0-1\)/.test((e as Error).message),
  );
});
