/**
 * Filesystem operations shared between threads (tree-ops.ts): every operation done, each group in
 * order; a failure in a worker thread told as the error it is, for the operation that failed, once no
 * thread is working any more; an injected filesystem keeping every call in this thread. And the
 * name checks' fast path agreeing with their rules.
 */
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  collisionKey,
  decodeOps,
  encodeOps,
  PkgError,
  removeTrees,
  runTreeOps,
  startRemoveTrees,
  type TreeOp,
  TreeThreads,
  unsafeNameReason,
} from 'egginst';
import { faultyFs } from './helpers/faults.js';
import { tempDir } from './helpers/index.js';

/** `groups` trees of one directory and `files` hard links to `src` each: the ops and each group's first. */
function linkTrees(root: string, src: string, groups: number, files: number): { ops: TreeOp[]; starts: number[] } {
  const ops: TreeOp[] = [];
  const starts: number[] = [];
  for (let g = 0; g < groups; g++) {
    starts.push(ops.length);
    ops.push({ op: 'mkdir', path: join(root, `g${g}`) }, { op: 'mkdir', path: join(root, `g${g}`, 'sub') });
    for (let f = 0; f < files; f++) ops.push({ op: 'link', src, dest: join(root, `g${g}`, 'sub', `f${f}`), how: 'hardlink', mode: 0o644 });
  }
  return { ops, starts };
}

/** Run `fn` with EGGINST_THREADS set (threads are counted at each call). */
function withThreads<T>(n: number, fn: () => T): T {
  const old = process.env.EGGINST_THREADS;
  process.env.EGGINST_THREADS = String(n);
  try {
    return fn();
  } finally {
    if (old === undefined) delete process.env.EGGINST_THREADS;
    else process.env.EGGINST_THREADS = old;
  }
}

test('a long list is done whole by several threads, each group in order (directories before their files)', async (t) => {
  const root = await tempDir(t);
  const src = join(root, 'src');
  writeFileSync(src, 'shared\n', { mode: 0o444 });
  mkdirSync(join(root, 'out'));
  const { ops, starts } = linkTrees(join(root, 'out'), src, 60, 98);
  assert.ok(ops.length >= 6000);
  const mine: number[] = [];
  withThreads(3, () => runTreeOps(ops, starts, { onOp: (i) => mine.push(i) }));
  assert.equal(statSync(src).nlink, 1 + 60 * 98, 'every file is a hard link of the source');
  assert.equal(readdirSync(join(root, 'out')).length, 60);
  // This thread did a share, not all of it (the others did the rest), and only whole chunks of groups.
  assert.ok(mine.length > 0 && mine.length <= ops.length);
  removeTrees([join(root, 'out')]);
  assert.ok(!existsSync(join(root, 'out')));
  assert.equal(statSync(src).nlink, 1);
});

test('threads started ahead are kept for the next list, and each list is done whole by them and this thread', async (t) => {
  const root = await tempDir(t);
  const src = join(root, 'src');
  writeFileSync(src, 'shared\n', { mode: 0o444 });
  mkdirSync(join(root, 'out'));
  const threads = new TreeThreads(2);
  t.after(() => threads.close());
  threads.start();
  const workers = threads.take(2);
  assert.equal(workers.length, 2);
  for (const round of [1, 2]) {
    const out = join(root, 'out', `r${round}`);
    mkdirSync(out);
    const { ops, starts } = linkTrees(out, src, 40, 98);
    runTreeOps(ops, starts, { threads });
    assert.equal(statSync(src).nlink, 1 + round * 40 * 98, `round ${round}: every file linked`);
    assert.ok(
      threads.take(2).every((w, i) => w === workers[i]),
      `round ${round}: the same threads, not new ones`,
    );
  }
  // The same threads remove both trees (a list of their own operations).
  removeTrees([join(root, 'out')], { threads });
  assert.ok(!existsSync(join(root, 'out')));
  assert.equal(statSync(src).nlink, 1);
});

test('operations cross to a worker encoded, and decode to the same operations', () => {
  const ops: TreeOp[] = [
    { op: 'mkdir', path: '/p/.egginst/t/s/lib' },
    { op: 'link', src: '/c/store/x/files/a b', dest: '/p/s/lib/a b', how: 'hardlink', mode: 0o644 },
    { op: 'link', src: '/c/s/ü', dest: '/p/s/ü', how: 'clone', mode: 0o755 },
    { op: 'link', src: '/c/s/y', dest: '/p/s/y', how: 'copy', mode: 0o4755 },
    { op: 'remove', path: '/p/.egginst/t/b' },
  ];
  assert.deepEqual(decodeOps(encodeOps(ops)), ops);
  assert.deepEqual(decodeOps(encodeOps([])), []);
});

test("a worker thread's failure is thrown as its error, for its operation, after every thread stopped", async (t) => {
  const root = await tempDir(t);
  const src = join(root, 'src');
  writeFileSync(src, 'shared\n');
  mkdirSync(join(root, 'out'));
  const { ops, starts } = linkTrees(join(root, 'out'), src, 60, 98);
  // The last group's last file exists already: whichever thread links it fails with EEXIST.
  mkdirSync(join(root, 'out', 'g59', 'sub'), { recursive: true });
  const last = ops[ops.length - 1] as Extract<TreeOp, { op: 'link' }>;
  writeFileSync(last.dest, 'in the way\n');
  let explained: TreeOp | undefined;
  const err = withThreads(2, () => {
    try {
      runTreeOps(ops, starts, {
        explain: (e, op) => {
          explained = op;
          return new PkgError('IO', `explained: ${(e as NodeJS.ErrnoException).code}`);
        },
      });
    } catch (e) {
      return e;
    }
    return undefined;
  });
  assert.ok(err instanceof PkgError, String(err));
  assert.equal(err.message, 'explained: EEXIST');
  assert.deepEqual(explained, last);
  // Nothing still runs: the count of links does not move any more.
  const n = statSync(src).nlink;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(statSync(src).nlink, n);
});

test('an injected filesystem gets every call, in this thread; removing a missing tree is fine', async (t) => {
  const root = await tempDir(t);
  mkdirSync(join(root, 'b'));
  for (let i = 0; i < 40; i++) {
    mkdirSync(join(root, 'b', `${i}`, 'x'), { recursive: true });
    writeFileSync(join(root, 'b', `${i}`, 'x', 'f'), '');
  }
  const fs = faultyFs();
  withThreads(4, () => removeTrees([join(root, 'b'), join(root, 'missing')], { fs }));
  assert.ok(!existsSync(join(root, 'b')));
  assert.equal(fs.calls.filter((c) => c.op === 'unlinkSync').length, 40);
  assert.equal(fs.calls.filter((c) => c.op === 'rmdirSync').length, 81);
});

test('a removal started in other threads is whole once finished, and with no threads waits for finish', async (t) => {
  const root = await tempDir(t);
  const src = join(root, 'src');
  writeFileSync(src, 'shared\n', { mode: 0o444 });
  mkdirSync(join(root, 'out'));
  const { ops, starts } = linkTrees(join(root, 'out'), src, 40, 98);
  runTreeOps(ops, starts);
  const threads = new TreeThreads(1);
  t.after(() => threads.close());
  const mine: number[] = [];
  const removal = startRemoveTrees([join(root, 'out')], { threads, onOp: (i) => mine.push(i) });
  assert.equal(mine.length, 0, 'this thread does its share only in finish()');
  removal.finish();
  assert.ok(!existsSync(join(root, 'out')));
  assert.equal(statSync(src).nlink, 1);
  // An injected filesystem (every call in this thread): nothing happens before finish().
  mkdirSync(join(root, 'b', 'x'), { recursive: true });
  writeFileSync(join(root, 'b', 'x', 'f'), '');
  const fs = faultyFs();
  const later = startRemoveTrees([join(root, 'b')], { fs, threads });
  assert.equal(fs.calls.filter((c) => c.op !== 'readdirSync').length, 0);
  assert.ok(existsSync(join(root, 'b', 'x', 'f')));
  later.finish();
  assert.ok(!existsSync(join(root, 'b')));
});

test('a removal with a spare sink keeps as many emptied directories as it has room for, its own only; adopt takes them', async (t) => {
  const root = await tempDir(t);
  const spare = join(root, 'spare');
  mkdirSync(spare);
  const tree = (name: string): string => {
    for (let i = 0; i < 20; i++) {
      mkdirSync(join(root, name, `${i}`, 'x'), { recursive: true });
      writeFileSync(join(root, name, `${i}`, 'x', 'f'), '');
    }
    return join(root, name);
  };
  const sink = (room: number, uid = process.getuid!()) => ({ dir: spare, room: new Int32Array(new SharedArrayBuffer(4)).fill(room), uid });
  // 20 packages of 2 directories each, and the tree's root: room for 25 of the 41.
  withThreads(2, () => removeTrees([tree('b')], { spare: sink(25) }));
  assert.ok(!existsSync(join(root, 'b')));
  const kept = readdirSync(spare);
  assert.equal(kept.length, 25);
  for (const n of kept) assert.deepEqual(readdirSync(join(spare, n)), []);
  // Directories of another owner are removed, not kept.
  removeTrees([tree('c')], { spare: sink(100, process.getuid!() + 1) });
  assert.ok(!existsSync(join(root, 'c')));
  assert.equal(readdirSync(spare).length, 25);
  // adopt: a spare renamed into place with the mode asked for; a spare gone is a mkdir.
  mkdirSync(join(root, 'new'));
  chmodSync(join(spare, kept[0]!), 0o700);
  runTreeOps(
    [
      { op: 'adopt', src: join(spare, kept[0]!), path: join(root, 'new', 'a'), mode: 0o750 },
      { op: 'adopt', src: join(spare, 'gone'), path: join(root, 'new', 'b'), mode: 0o750 },
    ],
    [0],
  );
  assert.equal(statSync(join(root, 'new', 'a')).mode & 0o777, 0o750);
  assert.ok(statSync(join(root, 'new', 'b')).isDirectory());
  assert.ok(!existsSync(join(spare, kept[0]!)));
  const adopt: TreeOp = { op: 'adopt', src: '/s/1', path: '/p/a', mode: 0o755 };
  assert.deepEqual(decodeOps(encodeOps([adopt])), [adopt]);
});

test('the name checks: plain names pass at once, every other kind is refused for its reason', () => {
  const refused: [string, RegExp][] = [
    ['', /empty/],
    ['/etc/passwd', /absolute/],
    ['C:/x', /drive letter/],
    ['a\\b', /backslash/],
    ['a\u0001b', /control character/],
    ['a\u2028b', /control character/],
    ['a//b', /empty path component/],
    ['a//', /empty path component/],
    ['.', /"\." path component/],
    ['./a', /"\." path component/],
    ['a/./b', /"\." path component/],
    ['..', /"\.\." path component/],
    ['../a', /"\.\." path component/],
    ['a/..', /"\.\." path component/],
    ['x'.repeat(256), /longer than 255/],
    [`${'é'.repeat(128)}/a`, /longer than 255/],
    [`${'abcdefgh/'.repeat(460)}x`, /longer than 4096/],
  ];
  for (const [name, why] of refused) assert.match(unsafeNameReason(name) ?? 'accepted', why, JSON.stringify(name.slice(0, 40)));
  for (const name of ['a', 'a/b/c.py', 'a/', 'a/b/', '..a', '.a/.b', 'a/b.', 'x'.repeat(255), 'ü/ä', 'with space/[x]~'])
    assert.equal(unsafeNameReason(name), null, name);
  assert.equal(collisionKey('Lib/Foo.PY'), 'lib/foo.py');
  assert.equal(collisionKey('Cafe\u0301/X'), 'caf\u00e9/x', 'non-ASCII names are compared in NFC');
});
