import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PkgError, planChanges, resolve, planToJson, type ResolveRequest } from 'enpkg';
import { install, labels, pkgs, remove, request, update, updateAll } from './helpers.js';

const solve = (r: ResolveRequest): string[] => labels(resolve(r).packages);
const actions = (r: ResolveRequest): unknown => planToJson(planChanges(r.installed, resolve(r))).actions;

const universe = pkgs(
  'MKL 10.3-1',
  'numpy 1.8.0-1; depends (MKL 10.3-1)',
  'numpy 1.9.2-1; depends (MKL 10.3-1)',
  'numpy 1.9.2-2; depends (MKL 10.3-1)',
  'scipy 0.14.0-1; depends (numpy >= 1.8)',
  'scipy 0.15.0-1; depends (numpy >= 1.9)',
  'pandas 0.17.0-1; depends (numpy >= 1.8)',
  'pandas 0.18.0-1; depends (numpy 1.9.2-1)',
);

test('a fresh install takes the newest versions and their dependencies', () => {
  assert.deepEqual(solve(request(universe, { jobs: [install('scipy')] })), ['MKL 10.3-1', 'numpy 1.9.2-2', 'scipy 0.15.0-1']);
});

test('installed versions are kept when the request does not force a change', () => {
  const r = request(universe, { installed: ['MKL 10.3-1', 'numpy 1.8.0-1'], marked: ['numpy'], jobs: [install('scipy')] });
  assert.deepEqual(solve(r), ['MKL 10.3-1', 'numpy 1.8.0-1', 'scipy 0.14.0-1']);
});

test('a request that needs another version of an installed package updates it', () => {
  const r = request(universe, { installed: ['MKL 10.3-1', 'numpy 1.8.0-1'], marked: ['numpy'], jobs: [install('scipy 0.15.0')] });
  assert.deepEqual(actions(r), [
    { kind: 'update', from: 'numpy 1.8.0-1', to: 'numpy 1.9.2-2' },
    { kind: 'install', package: 'scipy 0.15.0-1' },
  ]);
});

test('an explicit downgrade moves dependents along', () => {
  const r = request(universe, {
    installed: ['MKL 10.3-1', 'numpy 1.9.2-2', 'scipy 0.15.0-1'],
    marked: ['scipy', 'numpy'],
    jobs: [install('numpy 1.8.0-1')],
  });
  assert.deepEqual(actions(r), [
    { kind: 'update', from: 'numpy 1.9.2-2', to: 'numpy 1.8.0-1' },
    { kind: 'update', from: 'scipy 0.15.0-1', to: 'scipy 0.14.0-1' },
  ]);
});

test('update all takes everything to the newest compatible versions; again it is a no-op', () => {
  const installed = ['MKL 10.3-1', 'numpy 1.8.0-1', 'scipy 0.14.0-1'];
  const r = request(universe, { installed, marked: ['scipy'], jobs: [updateAll] });
  assert.deepEqual(solve(r), ['MKL 10.3-1', 'numpy 1.9.2-2', 'scipy 0.15.0-1']);
  const again = request(universe, { installed: solve(r), marked: ['scipy'], jobs: [updateAll] });
  assert.deepEqual(actions(again), []);
});

test('update of one package keeps the others unless they must change', () => {
  const r = request(universe, {
    installed: ['MKL 10.3-1', 'numpy 1.8.0-1', 'pandas 0.17.0-1', 'scipy 0.14.0-1'],
    marked: ['pandas', 'scipy'],
    jobs: [update('numpy')],
  });
  assert.deepEqual(actions(r), [{ kind: 'update', from: 'numpy 1.8.0-1', to: 'numpy 1.9.2-2' }]);
});

test('removing a package removes its dependents first, and dependencies nothing needs any more', () => {
  const r = request(universe, {
    installed: ['MKL 10.3-1', 'numpy 1.9.2-2', 'scipy 0.15.0-1'],
    marked: ['scipy'],
    jobs: [remove('numpy')],
  });
  const solution = resolve(r);
  assert.deepEqual(labels(solution.packages), []);
  assert.deepEqual(Object.fromEntries(solution.removeReasons), {
    numpy: { kind: 'requested' },
    scipy: { kind: 'dependent', on: 'numpy' },
    mkl: { kind: 'unneeded' },
  });
  assert.deepEqual(actions(r), [
    { kind: 'remove', package: 'scipy 0.15.0-1' },
    { kind: 'remove', package: 'numpy 1.9.2-2' },
    { kind: 'remove', package: 'MKL 10.3-1' },
  ]);
});

test('marked packages stay; automatic ones go when nothing needs them', () => {
  const r = request(universe, {
    installed: ['MKL 10.3-1', 'numpy 1.9.2-2', 'scipy 0.15.0-1'],
    marked: ['scipy', 'mkl'],
    jobs: [remove('scipy')],
  });
  assert.deepEqual(solve(r), ['MKL 10.3-1']);
  assert.deepEqual(resolve(r).marked, ['mkl']);
});

test('install jobs mark their packages', () => {
  const r = request(universe, { installed: ['MKL 10.3-1'], marked: [], jobs: [install('numpy')] });
  assert.deepEqual(resolve(r).marked, ['numpy']);
});

test('a marked package changes version when nothing else works', () => {
  const r = request(universe, {
    installed: ['MKL 10.3-1', 'numpy 1.9.2-1', 'pandas 0.18.0-1'],
    marked: ['pandas', 'numpy'],
    jobs: [install('numpy 1.9.2-2')],
  });
  assert.deepEqual(actions(r), [
    { kind: 'update', from: 'numpy 1.9.2-1', to: 'numpy 1.9.2-2' },
    { kind: 'update', from: 'pandas 0.18.0-1', to: 'pandas 0.17.0-1' },
  ]);
});

test('a conflict explains the chain with who required what', () => {
  const withoutOldPandas = universe.filter((p) => !(p.key === 'pandas' && p.version === '0.17.0'));
  const r = request(withoutOldPandas, {
    installed: ['MKL 10.3-1', 'numpy 1.9.2-1', 'pandas 0.18.0-1'],
    marked: ['pandas', 'numpy'],
    jobs: [install('numpy 1.9.2-2')],
  });
  assert.throws(
    () => resolve(r),
    (e: unknown) => {
      assert.ok(e instanceof PkgError);
      assert.equal(e.code, 'UNSATISFIABLE');
      assert.match(e.message, /^cannot install numpy 1\.9\.2-2:/);
      assert.match(e.message, /pandas 0\.18\.0-1 requires numpy 1\.9\.2-1, but numpy 1\.9\.2-2 was requested/);
      assert.match(e.message, /pandas must stay installed/);
      assert.doesNotMatch(e.message, /unknown/);
      return true;
    },
  );
});

test('a missing package names the requirement, who needs it and what exists', () => {
  const u = pkgs('app 1.0-1; depends (lib >= 2.0)', 'lib 1.0-1', 'lib 1.5-1');
  assert.throws(
    () => resolve(request(u, { jobs: [install('app')] })),
    (e: unknown) => {
      assert.ok(e instanceof PkgError);
      assert.match(e.message, /app 1\.0-1 requires lib >= 2\.0, but no version of lib matches it \(available: 1\.5-1, 1\.0-1\)/);
      return true;
    },
  );
  assert.throws(
    () => resolve(request(u, { jobs: [install('nope')] })),
    (e: unknown) => e instanceof PkgError && e.code === 'PACKAGE_NOT_FOUND' && /no package named nope is available/.test(e.message),
  );
  assert.throws(
    () => resolve(request(u, { jobs: [install('lib >= 3')] })),
    (e: unknown) =>
      e instanceof PkgError &&
      e.code === 'PACKAGE_NOT_FOUND' &&
      /no version of lib matches lib >= 3 \(available: 1\.5-1, 1\.0-1\)/.test(e.message),
  );
});

test('remove and update of packages that are not installed are refused', () => {
  assert.throws(
    () => resolve(request(universe, { jobs: [remove('numpy')] })),
    (e: unknown) => e instanceof PkgError && e.code === 'NOT_INSTALLED',
  );
  assert.throws(
    () => resolve(request(universe, { jobs: [update('numpy')] })),
    (e: unknown) => e instanceof PkgError && e.code === 'NOT_INSTALLED',
  );
});

test('dependency cycles are allowed', () => {
  const u = pkgs('a 1.0-1; depends (b)', 'b 1.0-1; depends (c)', 'c 1.0-1; depends (a)');
  assert.deepEqual(solve(request(u, { jobs: [install('a')] })), ['a 1.0-1', 'b 1.0-1', 'c 1.0-1']);
});

test('candidates are filtered by python, platform and arch', () => {
  const u = pkgs('a 2.0-1; python 3.5', 'a 1.5-1; platform win32', 'a 1.2-1; arch x86', 'a 1.0-1; python 2.7; platform linux2; arch amd64');
  const r: ResolveRequest = { ...request(u, { jobs: [install('a')] }), environment: { python: '2.7', platform: 'linux2', arch: 'amd64' } };
  assert.deepEqual(solve(r), ['a 1.0-1']);
  const none: ResolveRequest = { ...r, available: u.slice(0, 1) };
  assert.throws(() => resolve(none), /no package named a is available for this environment \(a 2\.0-1 is for python 3\.5 \(not 2\.7\)\)/);
});

test('names are case-insensitive', () => {
  const u = pkgs('MKL 10.3-1', 'numpy 1.0-1; depends (mkl)');
  assert.deepEqual(solve(request(u, { jobs: [install('NumPy')] })), ['MKL 10.3-1', 'numpy 1.0-1']);
});

test('an invalid dependency string makes that version unusable, not the whole solve', () => {
  const u = [...pkgs('lib 1.0-1', 'app 1.0-1; depends (lib)'), { name: 'app', key: 'app', version: '2.0', build: 1, depends: ['lib >='] }];
  assert.deepEqual(solve(request(u, { jobs: [install('app')] })), ['app 1.0-1', 'lib 1.0-1']);
  assert.throws(() => resolve(request(u, { jobs: [install('app 2.0')] })), /app 2\.0-1 cannot be used: invalid requirement "lib >="/);
});
