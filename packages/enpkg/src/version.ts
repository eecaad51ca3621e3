/**
 * Egg versions (FORMATS section 4): `upstream-build`, ordered by upstream then build.
 *
 * Upstream order: `N(.N)*`, then an optional pre-release (`a|b|c|rc` + `N(.N)*`, or `.devN`), then an
 * optional `.postN`, then an optional `.devN`. Trailing zero components are insignificant, and
 * `.dev` < `a` < `b` < `c` = `rc` < final < `.post`. A version that does not parse compares as the
 * tuple of its `.`-separated strings, below every version that parses. Numbers with leading zeros
 * (`2024.05.01`) parse as numbers.
 */
import { EnpkgErrorCodes, PkgError } from './errors.js';
import type { EggVersion } from './types.js';

const UPSTREAM_CHARS = /^[A-Za-z0-9_.+]+$/;
const BAD_CHAR = /[^A-Za-z0-9_.+]/;
const BUILD = /^(0|[1-9][0-9]*)$/;
const PARSEABLE = /^(\d+(?:\.\d+)*)(?:(a|b|c|rc)(\d+(?:\.\d+)*)|\.dev(\d*))?(?:\.post(\d*))?(?:\.dev(\d*))?$/;

/** Marks the end of a variable-length run of numbers in a key (below every number). */
const END = -1;
const PRE_RANK: Record<string, number> = { dev: 0, a: 1, b: 2, c: 3, rc: 3 };
const FINAL_RANK = 4;

function versionError(text: string, why: string): PkgError {
  return new PkgError(EnpkgErrorCodes.VERSION_INVALID, `invalid version "${text}": ${why}`, {
    hint: 'a version looks like 1.8.1 or 1.8.1-2 (upstream version, then the build number)',
    details: { version: text },
  });
}

function pushNumbers(key: number[], dotted: string): void {
  const nums = dotted.split('.').map(Number);
  let n = nums.length;
  while (n > 0 && nums[n - 1] === 0) n--;
  for (let i = 0; i < n; i++) key.push(nums[i]!);
  key.push(END);
}

function upstreamKey(upstream: string): number[] | null {
  const m = PARSEABLE.exec(upstream);
  if (!m) return null;
  const [, main, pre, preNums, preDev, post, dev] = m;
  const key: number[] = [];
  pushNumbers(key, main!);
  if (pre !== undefined) {
    key.push(PRE_RANK[pre]!);
    pushNumbers(key, preNums!);
  } else if (preDev !== undefined) {
    key.push(PRE_RANK.dev!, Number(preDev || '0'), END);
  } else {
    key.push(FINAL_RANK, END);
  }
  if (post !== undefined) key.push(1, Number(post || '0'));
  else key.push(0, 0);
  if (dev !== undefined) key.push(0, Number(dev || '0'));
  else key.push(1, 0);
  return key;
}

function checkUpstream(full: string, upstream: string): void {
  if (upstream === '') throw versionError(full, 'the upstream version is empty');
  if (!UPSTREAM_CHARS.test(upstream)) {
    const bad = BAD_CHAR.exec(upstream)![0];
    const shown = bad === ' ' ? 'a space' : `"${bad}"`;
    throw versionError(full, `${shown} is not allowed in a version (position ${upstream.indexOf(bad) + 1})`);
  }
}

/**
 * Parsed versions are immutable, and an index repeats the same few strings endlessly: remember them
 * (bounded, so that hostile input cannot grow it without end).
 */
const MEMO_LIMIT = 50_000;
const upstreamMemo = new Map<string, EggVersion>();
const versionMemo = new Map<string, EggVersion>();

function remember(memo: Map<string, EggVersion>, text: string, v: EggVersion): EggVersion {
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, Object.freeze(v));
  return v;
}

/** Parse an upstream version alone (`1.8.1`, `2011g`); the build is 0. */
export function parseUpstream(text: string): EggVersion {
  const known = upstreamMemo.get(text);
  if (known !== undefined) return known;
  if (text.includes('-')) throw versionError(text, 'an upstream version never contains "-"');
  checkUpstream(text, text);
  return remember(upstreamMemo, text, { text, upstream: text, build: 0, hasBuild: false, key: upstreamKey(text), parts: text.split('.') });
}

/** Parse a full version: `1.3.0-1` (upstream 1.3.0, build 1) or `1.3.0` (build 0). */
export function parseVersion(text: string): EggVersion {
  const known = versionMemo.get(text);
  if (known !== undefined) return known;
  return remember(versionMemo, text, parseVersionText(text));
}

function parseVersionText(text: string): EggVersion {
  const dash = text.indexOf('-');
  if (dash < 0) {
    checkUpstream(text, text);
    return { text, upstream: text, build: 0, hasBuild: false, key: upstreamKey(text), parts: text.split('.') };
  }
  const upstream = text.slice(0, dash);
  const build = text.slice(dash + 1);
  checkUpstream(text, upstream);
  if (build.includes('-')) throw versionError(text, `"${build}" after the upstream version has more than one "-"`);
  if (!BUILD.test(build)) {
    throw versionError(text, `the build "${build}" is not a non-negative integer without leading zeros`);
  }
  return { text, upstream, build: Number(build), hasBuild: true, key: upstreamKey(upstream), parts: upstream.split('.') };
}

/** A version from a package's fields (upstream + build), as a package id prints it: `1.8.1-2`. */
export function versionOf(upstream: string, build: number): EggVersion {
  const v = parseUpstream(upstream);
  if (!Number.isInteger(build) || build < 0)
    throw versionError(`${upstream}-${build}`, `the build "${build}" is not a non-negative integer`);
  return { ...v, text: `${upstream}-${build}`, build, hasBuild: true };
}

function compareParts(a: readonly string[], b: readonly string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Compare upstream versions only (builds ignored). Negative, zero or positive. */
export function compareUpstream(a: EggVersion, b: EggVersion): number {
  const ka = a.key;
  const kb = b.key;
  if (ka === null || kb === null) {
    if (ka !== null) return 1;
    if (kb !== null) return -1;
    return compareParts(a.parts, b.parts);
  }
  const n = Math.min(ka.length, kb.length);
  for (let i = 0; i < n; i++) {
    const d = ka[i]! - kb[i]!;
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return ka.length - kb.length;
}

/** Compare full versions: upstream, then build. Negative, zero or positive. */
export function compareVersions(a: EggVersion, b: EggVersion): number {
  return compareUpstream(a, b) || a.build - b.build;
}

/** `name version-build`, the way a package is named in plans, messages and scenarios. */
export function packageLabel(p: { readonly name: string; readonly version: string; readonly build: number }): string {
  return `${p.name} ${p.version}-${p.build}`;
}
