import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestNames, PkgError, planChanges, resolve, planToJson, type ResolveRequest } from 'enpkg';
import { install, labels, pkgs, remove, request, rng, update, updateAll } from './helpers.js';

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
    jobs: [install('numpy 1.9.2-2'), install('pandas')],
  });
  assert.throws(
    () => resolve(r),
    (e: unknown) => {
      assert.ok(e instanceof PkgError);
      assert.equal(e.code, 'UNSATISFIABLE');
      assert.match(e.message, /^cannot install numpy 1\.9\.2-2 and pandas:/);
      assert.match(e.message, /pandas 0\.18\.0-1 requires numpy 1\.9\.2-1, but numpy 1\.9\.2-2 was requested/);
      assert.match(e.message, /pandas was requested/);
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

test('a marked package no version of which can stay is removed, and the plan says why', () => {
  const withoutOldPandas = universe.filter((p) => !(p.key === 'pandas' && p.version === '0.17.0'));
  const r = request(withoutOldPandas, {
    installed: ['MKL 10.3-1', 'numpy 1.9.2-1', 'pandas 0.18.0-1'],
    marked: ['pandas', 'numpy'],
    jobs: [install('numpy 1.9.2-2')],
  });
  const s = resolve(r);
  assert.deepEqual(labels(s.packages), ['MKL 10.3-1', 'numpy 1.9.2-2']);
  const why = s.removeReasons.get('pandas');
  assert.equal(why?.kind, 'conflict');
  assert.match(why.kind === 'conflict' ? why.why : '', /pandas 0\.18\.0-1 requires numpy 1\.9\.2-1, but numpy 1\.9\.2-2 was requested/);
});

test('removing a package keeps a marked dependent in the version that does not need it', () => {
  const u = pkgs('libnet 1.0-1', 'viewer 1.5-1', 'viewer 2.0-1; depends (libnet)', 'tool 1.0-1; depends (libnet)');
  const r = request(u, { installed: ['libnet 1.0-1', 'viewer 2.0-1', 'tool 1.0-1'], marked: ['viewer', 'tool'], jobs: [remove('libnet')] });
  const s = resolve(r);
  assert.deepEqual(labels(s.packages), ['viewer 1.5-1']);
  assert.deepEqual(s.removeReasons.get('tool'), { kind: 'dependent', on: 'libnet' });
  assert.deepEqual(s.removeReasons.get('libnet'), { kind: 'requested' });
});

test('update all lists what it held back with the reason; strict makes that a failure', () => {
  const u = pkgs('libgeo 2.3-1', 'libgeo 3.0-1', 'mapper 4.0-1; depends (libgeo == 2.3-1)', 'tiles 1.0-1', 'tiles 1.1-1');
  const base = { installed: ['libgeo 2.3-1', 'mapper 4.0-1', 'tiles 1.0-1'], jobs: [updateAll] };
  const s = resolve(request(u, base));
  assert.deepEqual(labels(s.packages), ['libgeo 2.3-1', 'mapper 4.0-1', 'tiles 1.1-1']);
  assert.deepEqual(
    s.heldBack?.map((h) => h.line),
    ['libgeo stays at 2.3-1: mapper 4.0-1 requires libgeo == 2.3-1'],
  );
  assert.deepEqual(planChanges(request(u, base).installed, s).heldBack, s.heldBack);
  assert.throws(
    () => resolve({ ...request(u, base), strict: true }),
    (e: unknown) =>
      e instanceof PkgError &&
      e.code === 'UNSATISFIABLE' &&
      e.message ===
        'cannot update all: not every package can reach its newest version:\n' +
          '  libgeo stays at 2.3-1: mapper 4.0-1 requires libgeo == 2.3-1',
  );
  // Nothing held back: strict changes nothing.
  const free = pkgs('libgeo 2.3-1', 'libgeo 3.0-1', 'mapper 4.0-1; depends (libgeo)');
  const ok = resolve({ ...request(free, { installed: ['libgeo 2.3-1', 'mapper 4.0-1'], jobs: [updateAll] }), strict: true });
  assert.deepEqual(labels(ok.packages), ['libgeo 3.0-1', 'mapper 4.0-1']);
  assert.equal(ok.heldBack, undefined);
});

test('a package held back by the newest version of another says so in one line', () => {
  // libgeo 3.0 needs proj 2, which the installed, newest mapper does not accept.
  const u = pkgs('proj 1.0-1', 'proj 2.0-1', 'libgeo 2.3-1', 'libgeo 3.0-1; depends (proj >= 2.0)', 'mapper 4.0-1; depends (proj < 2.0)');
  const s = resolve(request(u, { installed: ['proj 1.0-1', 'libgeo 2.3-1', 'mapper 4.0-1'], jobs: [update('libgeo')] }));
  assert.deepEqual(labels(s.packages), ['libgeo 2.3-1', 'mapper 4.0-1', 'proj 1.0-1']);
  assert.equal(s.heldBack?.length, 1);
  assert.match(s.heldBack[0]!.line, /^libgeo stays at 2\.3-1: .*mapper 4\.0-1 requires proj < 2\.0/);
});

test('the same name-version-build twice (other repository or other metadata) is two candidates', () => {
  const a = { name: 'lapack', key: 'lapack', version: '3.4', build: 1, depends: ['blas'], repository: 'main' };
  const b = { name: 'lapack', key: 'lapack', version: '3.4', build: 1, depends: [], repository: 'extra' };
  const blas = { name: 'blas', key: 'blas', version: '1.0', build: 1, depends: [], repository: 'main' };
  // Repository order is priority: the first wins on equal versions when changes are equal...
  const c = { ...b, repository: 'main' };
  const first = resolve({ available: [blas, c, b], installed: [], jobs: [install('lapack')] });
  assert.equal(
    first.packages.find((p) => p.key === 'lapack'),
    c,
  );
  // ...and fewer changes win over priority: the build without blas is one install, not two.
  const fewer = resolve({ available: [blas, a, b], installed: [], jobs: [install('lapack')] });
  assert.deepEqual(fewer.packages, [b]);
  // Installed and identical to the lower-priority one: it stays.
  const kept = resolve({ available: [blas, a, b], installed: [blas, a], marked: ['lapack'], jobs: [install('blas')] });
  assert.deepEqual(labels(kept.packages), ['blas 1.0-1', 'lapack 3.4-1']);
  assert.equal(
    kept.packages.find((p) => p.key === 'lapack'),
    a,
  );
});

test('a missing package suggests the closest names (did you mean)', () => {
  assert.throws(
    () => resolve(request(universe, { jobs: [install('numpi')] })),
    (e: unknown) => e instanceof PkgError && e.message === 'cannot install numpi: no package named numpi is available; did you mean numpy?',
  );
  const u = pkgs('app 1.0-1; depends (Scipi)', 'SciPy 1.0-1', 'scipi2 1.0-1', 'scapy 1.0-1');
  assert.throws(
    () => resolve(request(u, { jobs: [install('app')] })),
    (e: unknown) => e instanceof PkgError && /no package named Scipi is available; did you mean scipi2 or SciPy\?$/m.test(e.message),
  );
});

test('closestNames: edit distance with a cut-off, case-insensitive, closest first', () => {
  const names = ['numpy', 'NumPy', 'numba', 'scipy', 'pandas', 'matplotlib', 'nump'];
  assert.deepEqual(closestNames('numpi', names), ['nump', 'numpy']);
  assert.deepEqual(closestNames('NUMPY', names), ['nump']);
  assert.deepEqual(closestNames('matplotlb', names), ['matplotlib']);
  assert.deepEqual(closestNames('xyz', names), []);
  assert.deepEqual(closestNames('nump', names, 1), ['numpy']);
});

test('a dependency chain longer than the first trail allocation (600 names) resolves whole', () => {
  const N = 600;
  const chain = pkgs(...Array.from({ length: N }, (_, i) => `c${i} 1.0-1${i + 1 < N ? `; depends (c${i + 1} >= 1.0)` : ''}`));
  const got = solve(request(chain, { jobs: [install('c0')] }));
  assert.equal(got.length, N);
  assert.deepEqual([got.includes('c0 1.0-1'), got.includes(`c${N - 1} 1.0-1`)], [true, true]);
});

/** A generated universe (seeded): `names` packages of `vers` versions, each needing up to 3 lower-numbered ones in ranges. */
function generated(seed: number, names: number, vers: number): string[] {
  const r = rng(seed);
  const specs: string[] = [];
  for (let n = 0; n < names; n++) {
    for (let v = 1; v <= vers; v++) {
      const deps: string[] = [];
      for (let k = 0; n > 0 && k < 3; k++) {
        if (r() < 0.5) continue;
        const t = Math.floor(r() * n);
        if (deps.some((d) => d.startsWith(`n${t} `))) continue;
        const lo = 1 + Math.floor(r() * vers);
        deps.push(`n${t} >= ${lo}.0, < ${lo + 1 + Math.floor(r() * 2)}.0`);
      }
      specs.push(`n${n} ${v}.0-1${deps.length ? `; depends (${deps.join(', ')})` : ''}`);
    }
  }
  return specs;
}

test('a long explanation shows the shortest chain from the request to a conflict, then the conclusion', () => {
  const u = pkgs(...generated(1388, 12, 3));
  assert.throws(
    () => resolve(request(u, { jobs: [install('n11')] })),
    (e: unknown) => {
      assert.ok(e instanceof PkgError);
      const full = e.details.explanation as string[];
      const shown = e.message
        .split('\n')
        .slice(1)
        .map((l) => l.trim());
      assert.ok(full.length > 15, `${full.length}`);
      assert.ok(shown.length <= 15);
      // The conclusion last, the count of the rest just before it.
      assert.equal(shown[shown.length - 1], full[full.length - 1]);
      const note = /^\.\.\. and (\d+) more steps; -v for all$/.exec(shown[shown.length - 2]!);
      assert.ok(note && Number(note[1]) > 0, e.message);
      // Strictly shorter than the first steps in derivation order, and not those steps.
      assert.ok(shown.length - 1 < full.length);
      assert.notEqual(shown[0], full[0]);
      // The chain starts from a conflict between two facts that the full explanation also states.
      const plain = full.map((l) => l.replace(/^\(\d+\) /, ''));
      assert.ok(plain.includes(shown[0]!), shown[0]);
      assert.equal((e.details.fullMessage as string).split('\n').length, full.length + 1);
      return true;
    },
  );
});

test('a chain too long itself shows its first steps, how many more, and its conclusion', () => {
  const chain = pkgs(...Array.from({ length: 30 }, (_, i) => `p${i} 1.0-1; depends (p${i + 1} >= 1.0)`), 'p30 0.5-1');
  assert.throws(
    () => resolve(request(chain, { jobs: [install('p0')] })),
    (e: unknown) => {
      assert.ok(e instanceof PkgError);
      const shown = e.message.split('\n');
      assert.ok(shown.length <= 16, e.message);
      assert.match(e.message, /more steps; -v for all/);
      assert.equal(typeof e.details.fullMessage, 'string');
      assert.ok((e.details.fullMessage as string).split('\n').length > 16);
      return true;
    },
  );
});
