/**
 * The resolver's internal vocabulary (PubGrub): terms over version sets, incompatibilities with their
 * causes, and the per-package state the solver works on.
 */
import type { EggVersion, Job, PackageInfo, Requirement } from '../types.js';
import type { VSet } from './vset.js';
import { and, isDisjoint, isSubset, minus, or } from './vset.js';

/** `name ∈ set` (pos) or `not name ∈ set` (neg; also true when the package is not installed at all). */
export interface Term {
  readonly name: number;
  readonly pos: boolean;
  readonly set: VSet;
}

export type Cause =
  /** The solver's start: the root must be "installed". */
  | { readonly kind: 'root' }
  /** A job of the request (install/update: root requires; remove: root forbids). */
  | { readonly kind: 'job'; readonly job: Job; readonly index: number }
  /** An installed package the user asked for must stay installed. */
  | { readonly kind: 'marked' }
  /** `name ∈ set` requires `requirement` (target: the required package's index). */
  | { readonly kind: 'dependency'; readonly requirement: Requirement; readonly target: number; readonly sameText: boolean }
  /** The package's metadata cannot be used (an unparseable requirement). */
  | { readonly kind: 'invalid'; readonly message: string }
  /** A bound of the search for fewer changes (not a fact about packages; never in an explanation). */
  | { readonly kind: 'bound' }
  | { readonly kind: 'derived'; readonly left: Incompat; readonly right: Incompat };

/** Terms that cannot all hold at once. */
export interface Incompat {
  readonly terms: readonly Term[];
  readonly cause: Cause;
  /** Whether the solver has registered it with its packages. */
  added: boolean;
}

/** Why an available package is not a candidate. */
export interface Excluded {
  readonly package: PackageInfo;
  readonly reason: string;
}

export interface NameState {
  readonly index: number;
  readonly key: string;
  /** Display spelling (the newest candidate's, or the requirement's when there is none). */
  name: string;
  /** Candidates, newest first (by version, then build). */
  readonly cands: readonly PackageInfo[];
  readonly versions: readonly EggVersion[];
  /** Repository index of each candidate (-1: an installed package the repositories do not have). */
  readonly ids: readonly number[];
  readonly n: number;
  readonly all: VSet;
  /** Index of the installed candidate, or -1. */
  readonly installed: number;
  readonly excluded: readonly Excluded[];
  /** An update target: prefer the newest candidate rather than the installed one. */
  target: boolean;
  /** Decision class: 0 update targets, 1 installed, 2 install jobs, 3 the rest. */
  cls: number;
  /** Within class 3, packages that more names depend on are decided later. */
  readonly popularity: number;
  /** Dependency incompatibilities per candidate (built on first use, in batches). */
  readonly deps: (Incompat[] | undefined)[];
  readonly matches: Map<string, VSet>;
  // solver state
  readonly incompats: Incompat[];
  accHas: boolean;
  accPos: boolean;
  accSet: VSet;
  decision: number;
  /** Trail indices of this package's assignments, in order. */
  readonly assigns: number[];
  listed: boolean;
  queued: boolean;
}

/** The intersection of two terms about the same package (null: no version and "installed" fits both). */
export function intersectTerms(aPos: boolean, aSet: VSet, bPos: boolean, bSet: VSet): { pos: boolean; set: VSet } {
  if (aPos && bPos) return { pos: true, set: and(aSet, bSet) };
  if (aPos) return { pos: true, set: minus(aSet, bSet) };
  if (bPos) return { pos: true, set: minus(bSet, aSet) };
  return { pos: false, set: or(aSet, bSet) };
}

/** Does a (pos, set) state satisfy term t (every possibility of the state is allowed by t)? */
export function stateSatisfies(pos: boolean, set: VSet, t: Term): boolean {
  if (pos) return t.pos ? isSubset(set, t.set) : isDisjoint(set, t.set);
  return t.pos ? false : isSubset(t.set, set);
}

export function createIncompat(terms: readonly Term[], cause: Cause): Incompat {
  return { terms, cause, added: false };
}
