/**
 * The solver: PubGrub (Natalie Weizenbaum's algorithm, as in Dart's pub), over version sets that are
 * bitsets of each package's candidates. Complete: it finds a solution whenever one exists, and when
 * none does it returns the incompatibility whose derivation explains why.
 *
 * Decisions follow the problem's classes (see problem.ts); within a class, packages are decided in the
 * order they became required. Because a learned incompatibility only ever undoes the most recent
 * decisions it involves, earlier choices (keeping installed versions, newest requested versions) are
 * given up only when no solution keeps them.
 */
import { createIncompat, intersectTerms, stateSatisfies, type Incompat, type NameState, type Term } from './model.js';
import type { VSet } from './vset.js';
import { createDecisionOrder } from './order.js';
import { dependencyIncompats, ROOT, type Pool } from './pool.js';
import { and, first, has, isDisjoint, isEmpty, isSubset, minus, or, singleSet } from './vset.js';

export type SolveResult =
  | { readonly ok: true /** Chosen candidate per package index (-1: not installed). */; readonly choice: Int32Array }
  | { readonly ok: false; readonly incompat: Incompat };

const SAT = 0;
const CONTRA = 1;
const INCONC = 2;
const ALMOST = 3;

export interface SolveStats {
  decisions: number;
  conflicts: number;
}

export interface SolveOptions {
  readonly stats?: SolveStats | undefined;
  /**
   * Search on after the first solution for one with fewer changes to the installed set (branch and
   * bound), for at most `budget` more decisions, and at most a quarter of the decisions the first
   * solution took (but at least 100); the best one found is returned.
   */
  readonly minimize?: { readonly budget: number } | undefined;
}

/**
 * What a package's state costs so far: 1 when it requires an installed package in another version (a
 * version change) or a package that is not installed (an install). Removals are counted once the
 * assignment is complete: a bound that counted them would force the package to stay when it is
 * undone, and an automatic package stays only when something needs it.
 */
function costOf(s: NameState): number {
  if (!s.accHas || !s.accPos || s.index === ROOT) return 0;
  return s.installed >= 0 && has(s.accSet, s.installed) ? 0 : 1;
}

/** `into` (a larger typed array) with `from` copied to its start: how the trail's arrays grow. */
function filledFrom<T extends Int32Array | Uint8Array | Int8Array>(into: T, from: ArrayLike<number>): T {
  into.set(from);
  return into;
}

const MIN_SEARCH = 100;
const SEARCH_SHARE = 0.25;

export function solve(
  pool: Pool,
  rootIncompats: readonly Incompat[],
  seeds: readonly (readonly number[])[],
  options: SolveOptions = {},
): SolveResult {
  const stats = options.stats;
  const names = pool.names;
  // The trail (assignments in order), as parallel arrays: nothing is allocated per assignment.
  let cap = 1024;
  let tName = new Int32Array(cap);
  let tLevel = new Int32Array(cap);
  /** bit 0: positive; bit 1: the package had a term before; bit 2: that term was positive. */
  let tFlags = new Uint8Array(cap);
  /** How the assignment changed the running cost (see costOf). */
  let tCost = new Int8Array(cap);
  let cost = 0;
  const tSet: VSet[] = new Array<VSet>(cap).fill(0);
  const tPrevSet: VSet[] = new Array<VSet>(cap).fill(0);
  const tCause: (Incompat | null)[] = new Array<Incompat | null>(cap).fill(null);
  let tLen = 0;
  function grow(): void {
    cap *= 2;
    tName = filledFrom(new Int32Array(cap), tName);
    tLevel = filledFrom(new Int32Array(cap), tLevel);
    tFlags = filledFrom(new Uint8Array(cap), tFlags);
    tCost = filledFrom(new Int8Array(cap), tCost);
    for (let i = tSet.length; i < cap; i++) {
      tSet.push(0);
      tPrevSet.push(0);
      tCause.push(null);
    }
  }
  let level = 0;
  const order = createDecisionOrder(names, seeds);
  let almost: Term | null = null;

  function addIncompat(inc: Incompat): void {
    if (inc.added) return;
    inc.added = true;
    for (const t of inc.terms) names[t.name]!.incompats.push(inc);
  }

  function assign(name: number, pos: boolean, set: VSet, cause: Incompat | null): void {
    const s = names[name]!;
    if (tLen === cap) grow();
    const i = tLen++;
    tName[i] = name;
    tLevel[i] = level;
    tFlags[i] = (pos ? 1 : 0) | (s.accHas ? 2 : 0) | (s.accPos ? 4 : 0);
    tSet[i] = set;
    tPrevSet[i] = s.accSet;
    tCause[i] = cause;
    s.assigns.push(i);
    const before = costOf(s);
    if (!s.accHas) {
      s.accHas = true;
      s.accPos = pos;
      s.accSet = set;
    } else if (s.accPos) {
      s.accSet = pos ? and(s.accSet, set) : minus(s.accSet, set);
    } else if (pos) {
      s.accPos = true;
      s.accSet = minus(set, s.accSet);
    } else {
      s.accSet = or(s.accSet, set);
    }
    const delta = costOf(s) - before;
    tCost[i] = delta;
    cost += delta;
    if (cause === null) s.decision = first(set);
    else if (s.accPos) order.required(name);
  }

  function backtrack(to: number): void {
    while (tLen > 0 && tLevel[tLen - 1]! > to) {
      const i = --tLen;
      const name = tName[i]!;
      const s = names[name]!;
      s.assigns.pop();
      const f = tFlags[i]!;
      s.accHas = (f & 2) !== 0;
      s.accPos = (f & 4) !== 0;
      s.accSet = tPrevSet[i]!;
      cost -= tCost[i]!;
      if (tCause[i] === null) {
        s.decision = -1;
        order.undecided(name);
      }
      tCause[i] = null;
    }
    level = to;
    order.backtracked();
  }

  function relation(t: Term): number {
    const s = names[t.name]!;
    if (!s.accHas) return t.pos ? INCONC : isEmpty(t.set) ? SAT : INCONC;
    const acc = s.accSet;
    if (s.accPos) {
      if (t.pos) return isSubset(acc, t.set) ? SAT : isDisjoint(acc, t.set) ? CONTRA : INCONC;
      return isDisjoint(acc, t.set) ? SAT : isSubset(acc, t.set) ? CONTRA : INCONC;
    }
    if (t.pos) return isSubset(t.set, acc) ? CONTRA : INCONC;
    return isSubset(t.set, acc) ? SAT : INCONC;
  }

  function incompatRelation(inc: Incompat): number {
    let un: Term | null = null;
    for (const t of inc.terms) {
      const r = relation(t);
      if (r === CONTRA) return CONTRA;
      if (r === INCONC) {
        if (un !== null) return INCONC;
        un = t;
      }
    }
    if (un === null) return SAT;
    almost = un;
    return ALMOST;
  }

  /** The trail index of the earliest assignment after which the package's terms satisfy t. */
  function satisfier(t: Term): number {
    const s = names[t.name]!;
    let pos = false;
    let set: VSet = 0;
    for (let k = 0; k < s.assigns.length; k++) {
      const i = s.assigns[k]!;
      const ap = (tFlags[i]! & 1) !== 0;
      const as = tSet[i]!;
      if (k === 0) {
        pos = ap;
        set = as;
      } else if (pos) {
        set = ap ? and(set, as) : minus(set, as);
      } else if (ap) {
        pos = true;
        set = minus(as, set);
      } else {
        set = or(set, as);
      }
      if (stateSatisfies(pos, set, t)) return i;
    }
    throw new Error(`internal error: no satisfier for a term on ${s.name}`);
  }

  function isFailure(inc: Incompat): boolean {
    const ts = inc.terms;
    return ts.length === 0 || (ts.length === 1 && ts[0]!.name === ROOT && ts[0]!.pos);
  }

  function makeIncompat(terms: Term[], left: Incompat, right: Incompat): Incompat {
    const merged: Term[] = [];
    for (const t of terms) {
      const j = merged.findIndex((m) => m.name === t.name);
      if (j < 0) merged.push(t);
      else {
        const m = merged[j]!;
        const r = intersectTerms(m.pos, m.set, t.pos, t.set);
        merged[j] = { name: t.name, pos: r.pos, set: r.set };
      }
    }
    const out = merged.length > 1 ? merged.filter((t) => !(t.name === ROOT && t.pos)) : merged;
    return createIncompat(out, { kind: 'derived', left, right });
  }

  /** Learn from a satisfied incompatibility; backjump. Returns the learned one, or a failure. */
  function resolveConflict(start: Incompat): { inc: Incompat; failed: boolean } {
    if (stats) stats.conflicts++;
    let inc = start;
    let isNew = false;
    while (!isFailure(inc)) {
      let mrTerm: Term | null = null;
      let mrSat = -1;
      let diff: Term | null = null;
      let prevLevel = 1;
      for (const t of inc.terms) {
        const sat = satisfier(t);
        if (mrSat < 0) {
          mrTerm = t;
          mrSat = sat;
        } else if (mrSat < sat) {
          prevLevel = Math.max(prevLevel, tLevel[mrSat]!);
          mrTerm = t;
          mrSat = sat;
          diff = null;
        } else {
          prevLevel = Math.max(prevLevel, tLevel[sat]!);
        }
        if (mrTerm === t) {
          // What the satisfier allows beyond the term; its own satisfier must be undone too.
          const d = intersectTerms((tFlags[mrSat]! & 1) !== 0, tSet[mrSat]!, !t.pos, t.set);
          diff = d.pos && isEmpty(d.set) ? null : { name: t.name, pos: d.pos, set: d.set };
          if (diff !== null) {
            prevLevel = Math.max(prevLevel, tLevel[satisfier({ name: diff.name, pos: !diff.pos, set: diff.set })]!);
          }
        }
      }
      const satCause = tCause[mrSat];
      const satName = tName[mrSat]!;
      if (prevLevel < tLevel[mrSat]! || satCause === null || satCause === undefined) {
        order.conflict(inc);
        backtrack(prevLevel);
        if (isNew) addIncompat(inc);
        return { inc, failed: false };
      }
      order.conflict(inc);
      const terms: Term[] = [];
      for (const t of inc.terms) if (t !== mrTerm) terms.push(t);
      for (const t of satCause.terms) if (t.name !== satName) terms.push(t);
      if (diff !== null) terms.push({ name: diff.name, pos: !diff.pos, set: diff.set });
      inc = makeIncompat(terms, inc, satCause);
      isNew = true;
    }
    return { inc, failed: true };
  }

  const changed: number[] = [];
  function enqueue(name: number): void {
    const s = names[name]!;
    if (!s.queued) {
      s.queued = true;
      changed.push(name);
    }
  }

  /** Unit propagation from a changed package; returns a failure incompatibility or null. */
  function propagate(start: number): Incompat | null {
    enqueue(start);
    while (changed.length > 0) {
      const p = changed.pop()!;
      names[p]!.queued = false;
      const incs = names[p]!.incompats;
      for (let i = incs.length - 1; i >= 0; i--) {
        const inc = incs[i]!;
        const r = incompatRelation(inc);
        if (r === SAT) {
          const learned = resolveConflict(inc);
          if (learned.failed) {
            for (const c of changed) names[c]!.queued = false;
            changed.length = 0;
            return learned.inc;
          }
          for (const c of changed) names[c]!.queued = false;
          changed.length = 0;
          if (incompatRelation(learned.inc) === ALMOST) {
            const t = almost!;
            assign(t.name, !t.pos, t.set, learned.inc);
            enqueue(t.name);
          }
          break;
        } else if (r === ALMOST) {
          const t = almost!;
          assign(t.name, !t.pos, t.set, inc);
          enqueue(t.name);
        }
      }
    }
    return null;
  }

  function prefer(s: NameState): number {
    if (s.installed >= 0 && !s.target && has(s.accSet, s.installed)) return s.installed;
    return first(s.accSet);
  }

  function wouldConflict(inc: Incompat, name: number, v: number): boolean {
    for (const t of inc.terms) {
      if (t.name === name) {
        if (has(t.set, v) !== t.pos) return false;
      } else if (relation(t) !== SAT) {
        return false;
      }
    }
    return true;
  }

  /** The installed packages a complete assignment leaves out (removals that `cost` does not count yet). */
  function removals(): number {
    let n = 0;
    for (const key of pool.installed.keys()) {
      const idx = pool.byKey.get(key);
      if (idx === undefined) n++;
      else {
        const s = names[idx]!;
        if (!(s.accHas && s.accPos)) n++;
      }
    }
    return n;
  }

  /** "Not all of these changes": the changes of the current assignment, as satisfied terms. */
  function changesIncompat(): Incompat {
    const terms: Term[] = [];
    for (let i = 1; i < names.length; i++) {
      const s = names[i]!;
      if (costOf(s) === 0) continue;
      terms.push({ name: i, pos: true, set: s.installed >= 0 ? minus(s.all, singleSet(s.n, s.installed)) : s.all });
    }
    return createIncompat(terms, { kind: 'bound' });
  }

  /** "Not all of these decisions": excludes the current complete assignment from the rest of the search. */
  function decisionsIncompat(): Incompat {
    const terms: Term[] = [];
    for (let i = 0; i < tLen; i++) {
      const name = tName[i]!;
      if (tCause[i] === null && name !== ROOT) terms.push({ name, pos: true, set: tSet[i]! });
    }
    return createIncompat(terms, { kind: 'bound' });
  }

  /** Learn from an incompatibility the current assignment satisfies; null when the search goes on. */
  function prune(inc: Incompat): Incompat | null {
    if (inc.terms.length === 0) return inc;
    addIncompat(inc);
    return propagate(inc.terms[inc.terms.length - 1]!.name);
  }

  const minimize = options.minimize;
  let best: Int32Array | null = null;
  let bestCost = Number.POSITIVE_INFINITY;
  let spent = 0;
  let searchBudget = 0;
  let decisions = 0;
  addIncompat(createIncompat([{ name: ROOT, pos: false, set: singleSet(1, 0) }], { kind: 'root' }));
  let failure = propagate(ROOT);
  while (failure === null) {
    if (best !== null) {
      if (spent++ >= searchBudget) break;
      if (cost >= bestCost) {
        failure = prune(changesIncompat());
        continue;
      }
    }
    const p = order.next();
    if (p < 0) {
      if (!minimize) break;
      const total = cost + removals();
      if (best === null) searchBudget = Math.min(minimize.budget, Math.max(MIN_SEARCH, Math.floor(decisions * SEARCH_SHARE)));
      if (total < bestCost) {
        bestCost = total;
        best = new Int32Array(names.length).fill(-1);
        for (let i = 1; i < names.length; i++) best[i] = names[i]!.decision;
      }
      if (bestCost === 0) break;
      // When the changes alone reach the bound, they are the (short) reason to look elsewhere.
      failure = prune(cost >= bestCost ? changesIncompat() : decisionsIncompat());
      continue;
    }
    const s = names[p]!;
    const v = prefer(s);
    const deps = p === ROOT ? rootIncompats : dependencyIncompats(pool, p, v);
    let conflict = false;
    for (const inc of deps) {
      addIncompat(inc);
      if (!conflict && wouldConflict(inc, p, v)) conflict = true;
    }
    if (!conflict) {
      level++;
      decisions++;
      if (stats) stats.decisions++;
      assign(p, true, singleSet(s.n, v), null);
    }
    failure = propagate(p);
  }
  if (best !== null) return { ok: true, choice: best };
  if (failure !== null) return { ok: false, incompat: failure };
  const choice = new Int32Array(names.length).fill(-1);
  for (let i = 1; i < names.length; i++) choice[i] = names[i]!.decision;
  return { ok: true, choice };
}
