/**
 * The package store (docs/package-store.md): warm installs with each link mode give the cold
 * install's tree, records and verify; rewritten files are never links; a crash at every point of an
 * install from the store leaves no half-complete entry marked complete; a tampered entry is found by
 * enpkg verify and repaired; cache clean keeps what a prefix uses; a store others can write is refused.
 */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  addReferences,
  CRASH_POINTS,
  checkEntry,
  type EggJob,
  keepLayout,
  type KeptLayout,
  listInstalled,
  listStore,
  openArchive,
  openStore,
  PkgError,
  readEntry,
  referencesOf,
  removeReference,
  restoreLayout,
  runTransaction,
  type TransactionOptions,
  verifyInstalled,
} from 'egginst';
import { faultyFs } from './helpers/faults.js';
import { fixturePath, type RunResult, runEgginst, runEnpkg, type Setup, setup, tempDir, treeHash, treeListing } from './helpers/index.js';

const egg = (name: string): string => fixturePath('eggs', `${name}.egg`);
const env = { SOURCE_DATE_EPOCH: '1700000000' };
const EGGS = ['data-1.0-1', 'upg-1.0-1', 'links-1.0-1', 'reloc-1.0-1', 'scripts-1.0-1'].map(egg);

/** A tree listing with the prefix's own path taken out of the records (and, for hard links, write bits). */
async function listing(prefix: string, dropWrite = false): Promise<string[]> {
  const lines = await treeListing(prefix);
  const records = listInstalled(prefix).map((p) => `EGG-INFO/${p.key}/egginst.json`);
  // Relocated object code holds the prefix's own path: its size is compared, not its content.
  return lines
    .map((l) => (/"(bin\/reloc-|lib\/reloc\/)/.test(l) ? l.replace(/ [0-9a-f]{64}$/, '') : l))
    .filter((l) => !records.some((r) => l.includes(JSON.stringify(r))))
    .map((l) =>
      dropWrite && l.startsWith('file ')
        ? l.replace(/^file (\d)(\d)(\d)(\d)/, (_m, a, b, c, d) => `file ${a}${+b & 5}${+c & 5}${+d & 5}`)
        : l,
    );
}

function records(prefix: string, dropWrite = false): unknown[] {
  return listInstalled(prefix).map((p) => {
    const rec = JSON.parse(readFileSync(join(prefix, `EGG-INFO/${p.key}/egginst.json`), 'utf8')) as Record<string, unknown>;
    const files = (rec.records as { mode?: number; path: string; sha256?: string }[]).map((f) => ({
      ...f,
      ...(dropWrite && f.mode !== undefined ? { mode: f.mode & ~0o222 } : {}),
      // Relocated object code holds the prefix's own path.
      ...(/^(bin\/reloc-|lib\/reloc\/)/.test(f.path) ? { sha256: 'relocated' } : {}),
    }));
    return { ...rec, prefix: '', records: files };
  });
}

test('warm installs with each link mode: the cold tree, records and verify; rewritten files are copies', async (t) => {
  const root = await tempDir(t);
  const store = join(root, 'cache', 'store');
  const cold = join(root, 'cold');
  assert.equal((await runEgginst(['--prefix', cold, '--no-fsync', ...EGGS], { env })).code, 0);
  const fill = await runEgginst(['--prefix', join(root, 'fill'), '--store', store, ...EGGS], { env });
  assert.equal(fill.code, 0, fill.stderr);
  assert.equal(listStore(store).entries.length, EGGS.length);
  for (const mode of ['copy', 'hardlink', 'clone', 'auto'] as const) {
    await t.test(mode, async (st) => {
      const prefix = join(root, mode);
      const r = await runEgginst(['--prefix', prefix, '--store', store, '--link-mode', mode, '-v', ...EGGS], { env });
      if (mode === 'clone' && r.code !== 0 && /cannot clone \(reflink\)/.test(r.stderr)) {
        st.skip(`this filesystem cannot reflink: ${r.stderr.trim().split('\n').pop()}`);
        return;
      }
      assert.equal(r.code, 0, r.stderr);
      const used = /files linked from the store .* by (clone|hardlink|copy)/.exec(r.stderr)?.[1];
      assert.ok(used, `-v says the link mode: ${r.stderr}`);
      if (mode !== 'auto') assert.equal(used, mode);
      const hard = used === 'hardlink';
      assert.deepEqual(await listing(prefix, hard), await listing(cold, hard));
      assert.deepEqual(records(prefix, hard), records(cold, hard));
      for (const p of listInstalled(prefix)) assert.deepEqual(verifyInstalled(prefix, p.key).problems, [], p.key);
      // Relocated object code, rewritten shebangs, metadata and a package with a post-install script: never links.
      for (const f of [
        'lib/reloc/libreloc.so',
        'bin/reloc-rpath',
        'EGG-INFO/data/spec/depend',
        'lib/python2.7/site-packages/scripts_demo.py',
      ])
        assert.equal(statSync(join(prefix, f)).nlink, 1, `${f} is a copy`);
      const shared = readdirSync(join(prefix, 'share', 'upg'), { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
      if (hard)
        assert.ok(shared.length > 0 && shared.every((e) => statSync(join(e.parentPath, e.name)).nlink > 1), 'data files are hard links');
    });
  }
});

test("each entry keeps its egg's validated listing; an archive of the listed size opens from it, another is parsed", async (t) => {
  const root = await tempDir(t);
  const store = join(root, 'store');
  assert.equal((await runEgginst(['--prefix', join(root, 'p'), '--store', store, '--no-fsync', ...EGGS], { env })).code, 0);
  const listings = [];
  for (const sha of listStore(store).entries) {
    const entry = readEntry(store, sha)!;
    assert.equal(entry.manifest.version, 5);
    const parsed = await openArchive(EGGS.find((e) => e.endsWith(`/${entry.manifest.eggName}`))!);
    parsed.close();
    const { archive } = entry.manifest;
    assert.ok(archive, `${entry.manifest.eggName} has a listing`);
    assert.deepEqual(
      archive,
      { size: parsed.size, totalSize: parsed.totalSize, entries: parsed.entries.map(({ index: _i, ...e }) => e) },
      entry.manifest.eggName,
    );
    listings.push({ path: join(store, sha), archive, parsed });
  }
  // The listing is what is used (its one entry, not the archive's), for a file of its size only.
  const { archive, parsed } = listings[0]!;
  const eggPath = EGGS.find((e) => e.endsWith(`/${parsed.fileName}`))!;
  const one = { ...archive, entries: archive.entries.slice(0, 1) };
  const fromListing = await openArchive(eggPath, undefined, one);
  fromListing.close();
  assert.deepEqual(
    fromListing.entries.map((e) => e.name),
    [archive.entries[0]!.name],
  );
  const otherSize = await openArchive(eggPath, undefined, { ...one, size: one.size + 1 });
  otherSize.close();
  assert.equal(otherSize.entries.length, parsed.entries.length);
  // A second install from the store (opened from the listings) gives the same prefix as the first.
  assert.equal((await runEgginst(['--prefix', join(root, 'q'), '--store', store, '--no-fsync', ...EGGS], { env })).code, 0);
  assert.deepEqual(records(join(root, 'q')), records(join(root, 'p')));
});

test('each entry keeps the layout it was filled with; it is used in the same context only', async (t) => {
  const root = await tempDir(t);
  const store = join(root, 'store');
  assert.equal((await runEgginst(['--prefix', join(root, 'p'), '--store', store, '--no-fsync', ...EGGS], { env })).code, 0);
  let data: { sha: string; kept: KeptLayout } | undefined;
  for (const sha of listStore(store).entries) {
    const { manifest } = readEntry(store, sha)!;
    const kept = manifest.layout;
    assert.ok(kept, `${manifest.eggName} keeps its layout`);
    assert.equal(kept.context.eggName, manifest.eggName);
    const archive = await openArchive(EGGS.find((e) => e.endsWith(`/${manifest.eggName}`))!);
    t.after(() => archive.close());
    const id = { name: manifest.eggName.split('-')[0]!, key: manifest.eggName.split('-')[0]!, version: '', build: 1 };
    const now = {
      id,
      eggName: manifest.eggName,
      entries: archive.entries,
      pythonVersion: () => kept.context.pythonVersion ?? '2.7',
      pythonPath: () => kept.context.pythonPath ?? '/usr/bin/python',
    };
    const restored = restoreLayout(kept, now)!;
    assert.ok(restored);
    // The same layout again: kept and restored round trip to what was kept.
    assert.deepEqual(keepLayout(restored, archive.entries, kept.context), kept);
    assert.equal(restoreLayout(kept, { ...now, eggName: 'other-1.0-1.egg' }), null, 'another egg name');
    if (kept.context.pythonVersion !== undefined)
      assert.equal(restoreLayout(kept, { ...now, pythonVersion: () => '3.99' }), null, 'another python');
    assert.equal(restoreLayout(kept, { ...now, entries: archive.entries.slice(0, 1) }), null, 'members that do not fit');
    for (const dest of ['../outside', '.egginst/x', 'EGG-INFO/other/x', `EGG-INFO/${id.key}/egginst.json`, ''])
      assert.equal(restoreLayout({ ...kept, items: [{ ...kept.items[0]!, dest }] }, now), null, `a kept destination ${dest}`);
    if (manifest.eggName === 'data-1.0-1.egg') data = { sha, kept };
  }
  // The kept layout is what a second install lays out by: one destination changed in it moves the file.
  assert.ok(data);
  const manifestPath = join(store, data.sha, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { layout: KeptLayout };
  const item = manifest.layout.items.find((i) => i.kind === 'file' && i.dest === 'share/data/table.csv')!;
  item.dest = 'share/data/moved.csv';
  chmodSync(manifestPath, 0o644);
  writeFileSync(manifestPath, JSON.stringify(manifest));
  chmodSync(manifestPath, 0o444);
  const q = join(root, 'q');
  assert.equal((await runEgginst(['--prefix', q, '--store', store, '--no-fsync', egg('data-1.0-1')], { env })).code, 0);
  assert.ok(existsSync(join(q, 'share/data/moved.csv')) && !existsSync(join(q, 'share/data/table.csv')));
});

test('crash at every point of an install from an empty store: no entry complete and wrong; recovery and a rerun finish', async (t) => {
  const root = await tempDir(t);
  const prefix = join(root, 'prefix');
  const store = join(root, 'cache', 'store');
  const op = ['--prefix', prefix, '--no-fsync', '--store', store, '--link-mode', 'hardlink', egg('data-1.0-1'), egg('reloc-1.0-1')];
  mkdirSync(prefix);
  const before = await treeHash(prefix);
  assert.equal((await runEgginst(op, { env })).code, 0);
  const after = await treeHash(prefix);
  const entriesSound = (): void => {
    for (const sha of listStore(store).entries)
      assert.deepEqual(checkEntry(readEntry(store, sha)!), [], `entry ${sha} is complete and sound`);
  };
  let crashes = 0;
  for (const point of CRASH_POINTS) {
    if (point === 'undo') continue;
    for (let k = 1; k < 500; k++) {
      rmSync(prefix, { recursive: true, force: true });
      rmSync(store, { recursive: true, force: true });
      mkdirSync(prefix);
      const r = await runEgginst(op, { env: { ...env, EGGINST_CRASH_AT: `${point}:${k}` } });
      if (r.signal !== 'SIGKILL') {
        assert.equal(r.code, 0, `${point}:${k}: ${r.stderr}`);
        break;
      }
      crashes++;
      entriesSound();
      const rec = await runEgginst(['--prefix', prefix, '--list'], { env });
      assert.equal(rec.code, 0, rec.stderr);
      assert.equal(await treeHash(prefix), point === 'committed' || point === 'cleanup' ? after : before, `${point}:${k}`);
      const again = await runEgginst(op, { env });
      assert.equal(again.code, 0, again.stderr);
      assert.equal(await treeHash(prefix), after, `${point}:${k}: the rerun installs from a sound store`);
      entriesSound();
    }
  }
  assert.ok(crashes > CRASH_POINTS.length, `crashed ${crashes} times`);
});

const storeOf = (s: { env: Record<string, string> }): string => join(s.env.XDG_CACHE_HOME!, 'enpkg', 'store');
/** enpkg on another prefix of the same user (same cache and store). */
const enpkgIn = (s: Setup, prefix: string, args: string[], extra: Record<string, string> = {}): Promise<RunResult> =>
  runEnpkg([...args, '--prefix', prefix, ...(args[0] === 'install' ? ['--repo', s.repo] : [])], { env: { ...s.env, ...extra } });

test('enpkg verify finds a tampered store entry and --repair rebuilds it and relinks every prefix using it', async (t) => {
  const s = await setup(t);
  const hard = { EGGINST_LINK_MODE: 'hardlink' };
  assert.equal((await s.enpkg(['install', 'data'], hard)).code, 0);
  const other = join(s.root, 'other');
  const o = await enpkgIn(s, other, ['install', 'data'], hard);
  assert.equal(o.code, 0, o.stderr);
  assert.equal((await enpkgIn(s, s.prefix, ['verify'])).code, 0);
  const [sha] = listStore(storeOf(s)).entries;
  const entry = readEntry(storeOf(s), sha!)!;
  const file = entry.manifest.files.find((f) => f.path.startsWith('EGG-INFO/prefix/share/'))!;
  const path = join(entry.dir, 'files', file.path);
  const installed = join(s.prefix, file.path.slice('EGG-INFO/prefix/'.length));
  const good = readFileSync(installed);
  chmodSync(path, 0o644);
  appendFileSync(path, 'tampered\n');
  const bad = await enpkgIn(s, s.prefix, ['verify']);
  assert.equal(bad.code, 1, bad.stdout + bad.stderr);
  assert.match(bad.stdout, /store changed/);
  assert.match(bad.stdout, /no longer matches its manifest/);
  const fixed = await enpkgIn(s, s.prefix, ['verify', '--repair']);
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  assert.match(fixed.stdout, new RegExp(`rebuilt the store entry ${sha}`));
  assert.match(fixed.stdout, new RegExp(`installed again in ${other}: data`));
  assert.deepEqual(readFileSync(installed), good);
  assert.deepEqual(readFileSync(join(other, file.path.slice('EGG-INFO/prefix/'.length))), good);
  assert.deepEqual(checkEntry(readEntry(storeOf(s), sha!)!), []);
  for (const p of [s.prefix, other]) assert.equal((await enpkgIn(s, p, ['verify'])).code, 0, p);
});

test('cache clean removes the store entries no prefix uses and keeps the others; --all removes every one', async (t) => {
  const s = await setup(t);
  assert.equal((await s.enpkg(['install', 'data'])).code, 0);
  const other = join(s.root, 'other');
  assert.equal((await enpkgIn(s, other, ['install', 'upg'])).code, 0);
  assert.equal(listStore(storeOf(s)).entries.length, 2);
  const upg = listStore(storeOf(s)).entries.find((sha) => readEntry(storeOf(s), sha)!.manifest.eggName === 'upg-1.0-1.egg')!;
  assert.equal((await enpkgIn(s, other, ['remove', 'upg'])).code, 0);
  // The removal kept upg's emptied directories as spares, and the entry its (now empty) references.
  assert.ok(readdirSync(join(storeOf(s), 'spare')).length > 0);
  assert.deepEqual(readdirSync(join(storeOf(s), 'refs', upg)), []);
  const clean = await enpkgIn(s, s.prefix, ['cache', 'clean', '--json']);
  assert.equal(clean.code, 0, clean.stderr);
  assert.deepEqual((clean.json as { store: unknown }).store, { removed: 1, kept: 1 });
  assert.ok(!existsSync(join(storeOf(s), 'spare')), 'the spare directories are given back');
  assert.ok(!existsSync(join(storeOf(s), 'refs', upg)), "a removed entry's references go with it");
  const left = listStore(storeOf(s)).entries;
  assert.equal(left.length, 1);
  assert.equal(readEntry(storeOf(s), left[0]!)!.manifest.eggName, 'data-1.0-1.egg');
  // A prefix deleted by hand uses nothing.
  rmSync(s.prefix, { recursive: true, force: true });
  assert.deepEqual(((await enpkgIn(s, s.prefix, ['cache', 'clean', '--json'])).json as { store: unknown }).store, { removed: 1, kept: 0 });
  assert.equal((await s.enpkg(['install', 'data'])).code, 0);
  assert.deepEqual(((await enpkgIn(s, s.prefix, ['cache', 'clean', '--all', '--json'])).json as { store: unknown }).store, {
    removed: 1,
    kept: 0,
  });
  assert.equal(listStore(storeOf(s)).entries.length, 0);
});

test('an update keeps the directories it empties as spares in the store, and the next install takes them: the same tree', async (t) => {
  const root = await tempDir(t);
  const store = join(root, 'store');
  const spare = join(store, 'spare');
  const [v1, v2] = [egg('upg-1.0-1'), egg('upg-2.0-1')];
  const run = async (prefix: string, e: string): Promise<void> => {
    const r = await runEgginst(['--prefix', prefix, '--store', store, '--link-mode', 'hardlink', '--no-fsync', e], { env });
    assert.equal(r.code, 0, r.stderr);
  };
  const prefix = join(root, 'p');
  await run(prefix, v1);
  // What the install emptied: its staging directories.
  const first = readdirSync(spare).length;
  const fresh = await listing(prefix, true);
  await run(prefix, v2);
  const kept = readdirSync(spare);
  // upg's own directories: its package, its data directory, its metadata and the spec directory in it.
  assert.ok(kept.length >= first + 4, `spares: ${kept.join(' ')}`);
  for (const n of kept) assert.deepEqual(readdirSync(join(spare, n)), [], 'a spare is empty');
  assert.ok(!existsSync(join(prefix, '.egginst')), 'the prefix keeps nothing of the transaction');
  // A spare taken gets the mode a new directory would have, whatever it had.
  for (const n of kept) chmodSync(join(spare, n), 0o700);
  await run(prefix, v1);
  assert.ok(readdirSync(spare).filter((n) => kept.includes(n)).length < kept.length, 'spares were taken');
  assert.deepEqual(await listing(prefix, true), fresh);
  for (const p of listInstalled(prefix)) assert.deepEqual(verifyInstalled(prefix, p.key).problems, [], p.key);
  // What is not a directory is never taken.
  rmSync(spare, { recursive: true });
  mkdirSync(spare);
  writeFileSync(join(spare, 'not-a-directory'), '');
  await run(prefix, v2);
  assert.ok(existsSync(join(spare, 'not-a-directory')));
});

test('references are written once per entry and prefix, and a second transaction of the same eggs writes none', async (t) => {
  const store = openStore(join(await tempDir(t), 'store'));
  const [a, b] = ['a', 'b'].map((c) => c.repeat(64)) as [string, string];
  addReferences(store, [a, b, a], '/p/one');
  addReferences(store, [a], '/p/two');
  assert.deepEqual(referencesOf(store, a).sort(), ['/p/one', '/p/two']);
  assert.deepEqual(referencesOf(store, b), ['/p/one']);
  const refs = join(store, 'refs', a);
  const before = readdirSync(refs).map((n) => statSync(join(refs, n)).ino);
  addReferences(store, [a, b], '/p/one');
  assert.deepEqual(
    readdirSync(refs).map((n) => statSync(join(refs, n)).ino),
    before,
  );
  removeReference(store, a, '/p/one');
  assert.deepEqual(referencesOf(store, a), ['/p/two']);
  assert.throws(() => addReferences(store, ['not-a-hash'], '/p/one'), PkgError);
});

test('a store or cache directory that other users can write is refused, naming it and its mode; nothing changes', async (t) => {
  const s = await setup(t);
  assert.equal((await s.enpkg(['install', 'data'])).code, 0);
  const before = await treeHash(s.prefix);
  for (const dir of [storeOf(s), join(s.env.XDG_CACHE_HOME!, 'enpkg')]) {
    chmodSync(dir, 0o777);
    const r = await s.enpkg(['install', 'upg']);
    assert.equal(r.code, 1, r.stderr);
    assert.ok(r.stderr.includes(`${dir} (mode 0777) can be written by users other than this one`), r.stderr);
    assert.equal(await treeHash(s.prefix), before);
    chmodSync(dir, 0o755);
  }
  assert.equal((await s.enpkg(['install', 'upg'])).code, 0);
  assert.ok(existsSync(storeOf(s)) && lstatSync(storeOf(s)).isDirectory());
});

test('the free-space check counts what linking really writes: hard links need no room for their data, copies do', async (t) => {
  const root = await tempDir(t);
  const store = join(root, 'cache', 'store');
  const jobs: EggJob[] = [
    { kind: 'install', eggPath: egg('big-1.0-1') },
    { kind: 'install', eggPath: egg('data-1.0-1') },
  ];
  const first = join(root, 'first');
  mkdirSync(first);
  await runTransaction(jobs, { prefix: first, durable: false, store: { dir: store, linkMode: 'hardlink' } });
  /** A filesystem with `free` bytes available, as statfs tells it. */
  const tight = (free: number): TransactionOptions['fs'] => {
    const fs = faultyFs();
    fs.statfsSync = ((path: string) => ({ ...statfsSync(path), bavail: Math.floor(free / 4096), bsize: 4096 })) as typeof fs.statfsSync;
    return fs;
  };
  let attempts = 0;
  const attempt = async (linkMode: 'hardlink' | 'copy', free: number): Promise<unknown> => {
    const prefix = join(root, `${linkMode}-${free}-${++attempts}`);
    mkdirSync(prefix);
    const before = await treeHash(prefix);
    const e = await runTransaction(jobs, { prefix, durable: false, fs: tight(free), store: { dir: store, linkMode } }).catch((x) => x);
    if (e instanceof PkgError) assert.equal(await treeHash(prefix), before, 'a refused install leaves the prefix as it was');
    return e;
  };
  const copied = await attempt('copy', 0);
  assert.ok(copied instanceof PkgError && copied.code === 'NO_SPACE', String(copied));
  const needed = copied.details.needed as number;
  assert.ok(needed > 1 << 20, `copies need room for the data (${needed} bytes)`);
  const short = needed - 4096;
  const again = await attempt('copy', short);
  assert.ok(again instanceof PkgError && again.code === 'NO_SPACE', 'a byte short is short');
  const linked = await attempt('hardlink', short);
  assert.ok(!(linked instanceof Error), `hard links fit where copies do not: ${String(linked)}`);
  // From an empty store, its new entry needs the room too (same filesystem): the copy's figure is not enough.
  rmSync(store, { recursive: true, force: true });
  const cold = await attempt('hardlink', short);
  assert.ok(cold instanceof PkgError && cold.code === 'NO_SPACE', String(cold));
  assert.deepEqual(listStore(store).entries, [], 'nothing was put in the store');
});

test('store: false installs without the store; link_mode in the configuration chooses the mode; a bad one is refused', async (t) => {
  const s = await setup(t);
  const config = join(s.root, 'config.yaml');
  const withConfig = (text: string, prefix: string, args: string[]): Promise<RunResult> => {
    writeFileSync(config, text);
    return enpkgIn(s, prefix, args, { ENPKG_CONFIG: config });
  };
  const off = await withConfig('store: false\n', s.prefix, ['install', 'data', '-y']);
  assert.equal(off.code, 0, off.stderr);
  assert.deepEqual(listStore(storeOf(s)).entries, [], 'nothing went into the store');
  assert.equal((await withConfig('store: false\n', s.prefix, ['verify'])).code, 0);

  const copied = join(s.root, 'copied');
  assert.equal((await withConfig('link_mode: copy\n', copied, ['install', 'data', '-y'])).code, 0);
  const hard = join(s.root, 'hard');
  assert.equal((await withConfig('link_mode: hardlink\n', hard, ['install', 'data', '-y', '-v'])).code, 0);
  const share = (prefix: string): string[] =>
    readdirSync(join(prefix, 'share'), { recursive: true, withFileTypes: true })
      .filter((e) => e.isFile())
      .map((e) => join(e.parentPath, e.name));
  assert.ok(share(copied).length > 0 && share(copied).every((f) => statSync(f).nlink === 1), 'copies are files of their own');
  assert.ok(
    share(hard).every((f) => statSync(f).nlink > 1),
    'hard links share the store inode',
  );
  assert.equal(await treeHash(join(s.prefix, 'share')), await treeHash(join(copied, 'share')), 'the same files either way');

  const bad = await withConfig('link_mode: symlink\n', join(s.root, 'bad'), ['install', 'data', '-y']);
  assert.equal(bad.code, 1, bad.stderr);
  assert.match(bad.stderr, /link_mode: expected one of auto, clone, hardlink, copy, got string "symlink"/);
  assert.ok(!existsSync(join(s.root, 'bad')), 'nothing was made');
});
