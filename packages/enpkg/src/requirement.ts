/**
 * Requirements (FORMATS section 5).
 *
 *   numpy                      any version
 *   numpy 1.8.0                upstream 1.8.0, any build (legacy)
 *   numpy 1.8.0-1              exactly 1.8.0-1 (legacy)
 *   numpy >= 1.8, < 2.0        operator form: ==, !=, <, <=, >, >=, ^= (same upstream, any build)
 *   numpy *                    any version
 *   numpy-1.8.0, numpy-1.8.0-1 command-line forms (with `{commandLine: true}`)
 *
 * `==`/`!=` with a version that has no build compare the upstream only; the ordering operators
 * compare a version without build as build 0. Names compare case-insensitively.
 */
import { EnpkgErrorCodes, PkgError } from './errors.js';
import type { Constraint, ConstraintOp, EggVersion, Requirement } from './types.js';
import { compareUpstream, compareVersions, parseVersion } from './version.js';

const NAME = /^[A-Za-z0-9_.]+/;
const OPERATORS: readonly ConstraintOp[] = ['==', '!=', '<=', '>=', '^=', '<', '>'];
const OPERATOR_CHARS = /^[=!<>^~]+/;
const VERSION_TOKEN = /^[^\s,]+/;

function requirementError(text: string, why: string, cause?: unknown): PkgError {
  return new PkgError(EnpkgErrorCodes.REQUIREMENT_INVALID, `invalid requirement "${text}": ${why}`, {
    hint: 'write a requirement as "name", "name 1.8.0", "name 1.8.0-1" or "name >= 1.8, < 2.0"',
    cause,
    details: { requirement: text },
  });
}

function describeToken(s: string): string {
  const t = /^\S+/.exec(s)?.[0] ?? s;
  return `"${t}"`;
}

function versionIn(text: string, token: string): EggVersion {
  try {
    return parseVersion(token);
  } catch (e) {
    throw requirementError(text, (e as Error).message, e);
  }
}

export interface ParseRequirementOptions {
  /** Also accept `name-1.8.0` and `name-1.8.0-1`. */
  readonly commandLine?: boolean;
}

/** Parse a requirement string; the error names the part that is wrong. */
export function parseRequirement(input: string, options: ParseRequirementOptions = {}): Requirement {
  const text = input.trim();
  if (text === '') throw requirementError(input, 'it is empty');
  const nameMatch = NAME.exec(text);
  if (!nameMatch) throw requirementError(text, `expected a package name at the start, found ${describeToken(text)}`);
  const name = nameMatch[0];
  const key = name.toLowerCase();
  const afterName = text.slice(name.length);
  let rest = afterName.trimStart();
  const req = (constraints: Constraint[], shown: string): Requirement => ({ text: shown, name, key, constraints });

  if (rest === '') return req([], name);
  if (rest === '*') return req([], name);
  if (afterName.startsWith('-')) {
    if (!options.commandLine) {
      throw requirementError(text, `"-" after the name: write "${name} ${afterName.slice(1)}" (a space, not a dash)`);
    }
    const token = afterName.slice(1);
    if (token === '' || /\s/.test(token)) throw requirementError(text, `expected a version after "${name}-"`);
    return legacy(text, name, key, token);
  }
  if (!OPERATOR_CHARS.test(rest)) {
    const token = VERSION_TOKEN.exec(rest)![0];
    const extra = rest.slice(token.length).trim();
    if (extra !== '') throw requirementError(text, `unexpected ${describeToken(extra)} after the version "${token}"`);
    return legacy(text, name, key, token);
  }

  const constraints: Constraint[] = [];
  for (;;) {
    const opText = OPERATOR_CHARS.exec(rest)?.[0];
    if (opText === undefined) {
      throw requirementError(text, `expected an operator (==, !=, <, <=, >, >=, ^=), found ${describeToken(rest)}`);
    }
    const op = OPERATORS.find((o) => opText === o);
    if (op === undefined) {
      throw requirementError(text, `unknown operator "${opText}" (use one of ==, !=, <, <=, >, >=, ^=)`);
    }
    rest = rest.slice(op.length).trimStart();
    const token = VERSION_TOKEN.exec(rest)?.[0];
    if (token === undefined) throw requirementError(text, `missing a version after "${op}"`);
    constraints.push({ op, version: versionIn(text, token) });
    rest = rest.slice(token.length).trimStart();
    if (rest === '') break;
    if (!rest.startsWith(','))
      throw requirementError(text, `unexpected ${describeToken(rest)} after "${op} ${token}" (separate constraints with ",")`);
    rest = rest.slice(1).trimStart();
    if (rest === '') throw requirementError(text, 'a "," must be followed by another constraint');
  }
  const shown = `${name} ${constraints.map((c) => `${c.op} ${c.version.text}`).join(', ')}`;
  return req(constraints, shown);
}

function legacy(text: string, name: string, key: string, token: string): Requirement {
  const version = versionIn(text, token);
  const op: ConstraintOp = version.hasBuild ? '==' : '^=';
  return { text: `${name} ${version.text}`, name, key, constraints: [{ op, version }] };
}

/** Does `version` (a package's full version) satisfy every constraint? */
export function satisfies(requirement: Pick<Requirement, 'constraints'>, version: EggVersion): boolean {
  for (const c of requirement.constraints) {
    if (!constraintHolds(c, version)) return false;
  }
  return true;
}

export function constraintHolds(c: Constraint, v: EggVersion): boolean {
  switch (c.op) {
    case '==':
      return (c.version.hasBuild ? compareVersions(v, c.version) : compareUpstream(v, c.version)) === 0;
    case '!=':
      return (c.version.hasBuild ? compareVersions(v, c.version) : compareUpstream(v, c.version)) !== 0;
    case '^=':
      return compareUpstream(v, c.version) === 0;
    case '<':
      return compareVersions(v, c.version) < 0;
    case '<=':
      return compareVersions(v, c.version) <= 0;
    case '>':
      return compareVersions(v, c.version) > 0;
    case '>=':
      return compareVersions(v, c.version) >= 0;
  }
}

/** Combine requirements on the same name (all must hold) into one. */
export function combineRequirements(reqs: readonly Requirement[]): Requirement {
  if (reqs.length === 1) return reqs[0]!;
  const first = reqs[0]!;
  const constraints = reqs.flatMap((r) => r.constraints);
  const text = constraints.length
    ? `${first.name} ${reqs
        .filter((r) => r.constraints.length)
        .map((r) => r.text.slice(r.name.length + 1))
        .join(', ')}`
    : first.name;
  return { text, name: first.name, key: first.key, constraints };
}
