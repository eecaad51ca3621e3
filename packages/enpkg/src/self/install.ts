/**
 * Putting a version of enpkg beside the running one, trying it, and cleaning up after switches.
 *
 *   checkEgg       the egg's name and manifest: enpkg, this platform, this Node (nothing written)
 *   placeVersion   unpack into .partial-<id>, flush, rename to <id>: a version directory is whole or absent
 *   smokeRun       run the new version's enpkg --version with ENPKG_SMOKE=1 (addons loaded and used)
 *   cleanVersions  remove every version directory but current and previous, and leftovers of crashes
 *
 * The switch itself is one rename of the pointer (pointer.ts); nothing here touches the running
 * version's directory.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import semver from 'semver';
import { flushFilesystem, openArchive, requireEggName, unpackTree, type Archive } from 'egginst';
import { fsyncDir } from 'egginst/core';
import { EnpkgErrorCodes, PkgError } from '../errors.js';
import { crashPoint } from '../crash.js';
import { parseManifest, type Manifest } from './manifest.js';
import { POINTER_FILE, selfDir, STARTED_FILE, versionDir, versionId } from './pointer.js';

export interface CheckedEgg {
  archive: Archive;
  manifest: Manifest;
  id: string;
  eggName: string;
}

const tail = (text: string, lines = 12): string => text.trimEnd().split('\n').slice(-lines).join('\n');

/** Open an egg of enpkg and check it can run here. The caller closes `archive`. */
export async function checkEgg(path: string, eggName = basename(path)): Promise<CheckedEgg> {
  const archive = await openArchive(path);
  try {
    const name = requireEggName(eggName);
    if (name.key !== 'enpkg') {
      throw new PkgError(EnpkgErrorCodes.SELF_EGG_INVALID, `${eggName} is not an egg of enpkg`, {
        hint: 'give an enpkg-<version>-<build>.egg built by npm run build:egg',
      });
    }
    const text = archive.readText('enpkg/manifest.json');
    if (text === undefined)
      throw new PkgError(EnpkgErrorCodes.SELF_EGG_INVALID, `${eggName} has no enpkg/manifest.json`, {
        hint: 'build the egg with npm run build:egg',
      });
    if (archive.byName.has(`enpkg/${STARTED_FILE}`)) {
      throw new PkgError(EnpkgErrorCodes.SELF_EGG_INVALID, `${eggName} holds enpkg/${STARTED_FILE}, which only a first start may create`, {
        hint: 'build the egg with npm run build:egg',
      });
    }
    const manifest = parseManifest(text, `${eggName}:enpkg/manifest.json`);
    if (manifest.version !== name.version || manifest.build !== name.build) {
      throw new PkgError(
        EnpkgErrorCodes.SELF_EGG_INVALID,
        `${eggName} holds enpkg ${manifest.version}-${manifest.build}, not what its name says`,
        {
          hint: 'build the egg again',
        },
      );
    }
    if (!semver.valid(manifest.version)) {
      throw new PkgError(EnpkgErrorCodes.SELF_EGG_INVALID, `${eggName}: ${manifest.version} is not a semver version`, {
        hint: 'enpkg versions are package.json versions (semver)',
      });
    }
    if (manifest.platform !== process.platform || manifest.arch !== process.arch) {
      throw new PkgError(
        EnpkgErrorCodes.SELF_EGG_INCOMPATIBLE,
        `${eggName} was built for ${manifest.platform}-${manifest.arch}, this machine is ${process.platform}-${process.arch}`,
        {
          hint: 'use the egg built for this platform',
        },
      );
    }
    if (!semver.satisfies(process.version, manifest.node)) {
      throw new PkgError(EnpkgErrorCodes.SELF_EGG_INCOMPATIBLE, `${eggName} needs Node ${manifest.node}; this is Node ${process.version}`, {
        hint: 'update Node, or use an older enpkg',
      });
    }
    if (manifest.modules !== process.versions.modules) {
      throw new PkgError(
        EnpkgErrorCodes.SELF_EGG_INCOMPATIBLE,
        `${eggName}'s native addons were compiled for Node ABI ${manifest.modules}; this Node is ABI ${process.versions.modules}`,
        {
          hint: `use an egg built with Node ${process.versions.node.split('.')[0]}`,
        },
      );
    }
    return { archive, manifest, id: versionId(manifest.version, manifest.build), eggName };
  } catch (e) {
    archive.close();
    throw e;
  }
}

/**
 * Unpack a checked egg into `<home>/.enpkg/self/<id>/`. An existing directory of that version (kept
 * from before, or left by a crash after its rename) is replaced; the running version never is.
 */
export async function placeVersion(home: string, egg: CheckedEgg, running: string | null): Promise<string> {
  if (egg.id === running) throw new PkgError(EnpkgErrorCodes.INTERNAL, `enpkg ${egg.id} is the running version`);
  const base = selfDir(home);
  mkdirSync(base, { recursive: true });
  const partial = join(base, `.partial-${egg.id}`);
  rmSync(partial, { recursive: true, force: true });
  const unpacked = await unpackTree(egg.archive, 'enpkg/', partial, { onFile: () => crashPoint('self-unpacking') });
  flushFilesystem(partial, function* () {
    for (const rel of unpacked.digests.keys()) yield join(partial, rel);
    yield partial;
  });
  crashPoint('self-unpacked');
  const dir = versionDir(home, egg.id);
  if (existsSync(dir)) {
    const old = join(base, `.old-${egg.id}-${process.pid}`);
    renameSync(dir, old);
    rmSync(old, { recursive: true, force: true });
  }
  renameSync(partial, dir);
  fsyncDir(base);
  crashPoint('self-placed');
  return dir;
}

/** Run the version in `dir` the way the launcher will, and check it answers with its own version. */
export function smokeRun(home: string, dir: string, manifest: Manifest): void {
  const r = spawnSync(process.execPath, [join(dir, manifest.entries.enpkg), '--version'], {
    env: { ...process.env, ENPKG_SMOKE: '1', ENPKG_HOME: home, ENPKG_TRIAL: '' },
    encoding: 'utf8',
    timeout: 120_000,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = (r.stdout ?? '').trim();
  if (r.status === 0 && out === manifest.version) return;
  const why = r.error
    ? r.error.message
    : r.signal
      ? `killed by ${r.signal}`
      : r.status !== 0
        ? `exit status ${r.status}`
        : `it said it is ${JSON.stringify(out.slice(0, 80))}`;
  const stderr = tail(r.stderr ?? '');
  throw new PkgError(
    EnpkgErrorCodes.SELF_SMOKE_FAILED,
    `enpkg ${manifest.version}-${manifest.build} failed its smoke run (${why})${stderr ? `:\n${stderr}` : ''}`,
    {
      hint: 'the running enpkg is unchanged; report the failure to whoever publishes enpkg',
    },
  );
}

/** Remove every version but `keep`, and what crashes left behind (.partial-*, .old-*, pointer temporaries). */
export function cleanVersions(home: string, keep: readonly (string | null)[]): string[] {
  const base = selfDir(home);
  const removed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(base);
  } catch {
    return removed;
  }
  for (const name of names.sort()) {
    if (name === POINTER_FILE || keep.includes(name)) continue;
    rmSync(join(base, name), { recursive: true, force: true });
    removed.push(name);
    crashPoint('self-cleaning');
  }
  return removed;
}
