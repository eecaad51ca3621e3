/**
 * An egg's identity and metadata, read from an opened archive. The file name is the identity (as
 * in Enstaller); the archive's own metadata must agree with it.
 */
import type { Archive } from './archive.js';
import { parseEggName, parseSetuptoolsEggName, requireEggName } from './eggname.js';
import { ErrorCodes, PkgError, WarningCodes } from './errors.js';
import { mergeInfoJson, parsePkgInfo, parseSpecDepend } from './spec.js';
import type { EggMetadata, EggSpec, Warning } from './types.js';

export function readMetadata(archive: Archive, eggName: string, warnings: Warning[] = []): EggMetadata {
  const dependText = archive.readText('EGG-INFO/spec/depend');
  const infoText = archive.readText('EGG-INFO/info.json');
  const summaryText = archive.readText('EGG-INFO/spec/summary');
  const id = parseEggName(eggName);

  if (!id) {
    // A plain setuptools egg: identity from PKG-INFO, build 0.
    const st = parseSetuptoolsEggName(eggName);
    const pkgInfo = archive.readText('EGG-INFO/PKG-INFO');
    const info = pkgInfo ? parsePkgInfo(pkgInfo) : {};
    if (!st || dependText !== undefined || !info.name || !info.version) requireEggName(eggName);
    const name = info.name!.replace(/[^\w.]+/g, '_');
    const spec: EggSpec = { packages: [], extra: {}, name, version: info.version!, build: 0, python: st!.python };
    const meta: EggMetadata = { id: { name, key: name.toLowerCase(), version: info.version!, build: 0 }, eggName, spec, setuptools: true };
    if (info.summary) meta.summary = info.summary;
    return meta;
  }

  let spec: EggSpec = dependText !== undefined ? parseSpecDepend(dependText) : { packages: [], extra: {} };
  let summary = summaryText?.trim();
  if (infoText !== undefined) {
    const merged = mergeInfoJson(spec, infoText);
    spec = merged.spec;
    if (merged.summary !== undefined) summary = merged.summary;
  }
  if (dependText === undefined && infoText === undefined) {
    throw new PkgError(ErrorCodes.METADATA_INVALID, `${eggName} has neither EGG-INFO/spec/depend nor EGG-INFO/info.json`, {
      hint: 'an egg built by the Enstaller tool chain always has EGG-INFO/spec/depend',
      details: { file: eggName },
    });
  }

  if (spec.name !== undefined && spec.name.toLowerCase() === id.key) {
    const badVersion = spec.version !== undefined && spec.version !== id.version;
    const badBuild = spec.build !== undefined && spec.build !== id.build;
    if (badVersion || badBuild) {
      throw new PkgError(
        ErrorCodes.METADATA_MISMATCH,
        `${eggName}: its metadata (EGG-INFO/spec/depend) says ${spec.name} ${spec.version ?? id.version}-${spec.build ?? id.build}, ` +
          `but the file name says ${id.name} ${id.version}-${id.build}`,
        {
          hint: 'the egg is mislabelled; rebuild it or rename it after its metadata',
          details: { file: eggName, entry: 'EGG-INFO/spec/depend' },
        },
      );
    }
  } else if (spec.name !== undefined) {
    warnings.push({
      code: WarningCodes.METADATA_NAME_DIFFERS,
      message:
        `${eggName}: its metadata names the package ${spec.name} ${spec.version ?? ''}; ` +
        `it is installed as ${id.name} ${id.version}-${id.build}, after its file name`,
      subject: eggName,
    });
  }
  const meta: EggMetadata = { id, eggName, spec, setuptools: false };
  if (summary) meta.summary = summary;
  return meta;
}
