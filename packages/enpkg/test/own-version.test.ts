/** enpkg's own version comes from one lookup: the bundle's manifest.json, else package.json. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { enpkgVersion, runningManifest, sourcePackageJson } from '../src/self/manifest.js';
import { enpkgVersion as builderVersion } from '../tools/build-egg.js';

test("from a source checkout, the version is package.json's, for the CLI and the egg builder alike", () => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  assert.equal(runningManifest(), null, 'no manifest.json beside the source build');
  assert.equal(sourcePackageJson()?.version, pkg.version);
  assert.equal(enpkgVersion(), pkg.version);
  assert.equal(builderVersion(), pkg.version);
});
