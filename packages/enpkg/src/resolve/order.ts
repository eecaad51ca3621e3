/**
 * The order in which the solver decides packages, which is how the policy is expressed (see
 * problem.ts for the classes): classes 0-2 in the order their packages became required; class 3 (all
 * other dependencies) from a heap keyed by
 *
 *   - conflict activity (as in VSIDS: it grows for the packages of every learned incompatibility and
 *     decays), so that packages in conflict are decided early and conflicts surface close to the
 *     decisions they depend on instead of after long detours that backjumping throws away;
 *   - then popularity, least depended-upon first, so that a widely shared library is chosen after
 *     the packages that constrain it (dependencies adapt to their dependents);
 *   - then the order in which packages became required.
 *
 * Decided packages leave the heap lazily.
 */
import type { Incompat, NameState } from './model.js';

export interface DecisionOrder {
  /** A package has become required (its term is positive). */
  required(name: number): void;
  /** A package's decision was undone by a backjump. */
  undecided(name: number): void;
  /** After any backjump. */
  backtracked(): void;
  /** A conflict involved these packages. */
  conflict(inc: Incompat): void;
  /** The next package to decide, or -1 when every required package is decided. */
  next(): number;
}

export function createDecisionOrder(names: readonly NameState[], seeds: readonly (readonly number[])[]): DecisionOrder {
  const lists: number[][] = seeds.map((s) => [...s]);
  const ptr = [0, 0, 0];
  const heap: number[] = [];
  let inHeap = new Uint8Array(1024);
  let seq = new Int32Array(1024).fill(-1);
  let activity = new Float64Array(1024);
  let bump = 1;
  let dirty = false;
  let nextSeq = 0;

  const before = (a: number, b: number): boolean => {
    const aa = activity[a]!;
    const ab = activity[b]!;
    if (aa !== ab) return aa > ab;
    const pa = names[a]!.popularity;
    const pb = names[b]!.popularity;
    return pa < pb || (pa === pb && seq[a]! < seq[b]!);
  };

  function ensureRoom(name: number): void {
    if (name < inHeap.length) return;
    const size = Math.max(name + 1, inHeap.length * 2);
    const f = new Uint8Array(size);
    f.set(inHeap);
    inHeap = f;
    const q = new Int32Array(size).fill(-1);
    q.set(seq);
    seq = q;
    const a = new Float64Array(size);
    a.set(activity);
    activity = a;
  }

  function siftDown(i: number): void {
    const item = heap[i]!;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const r = l + 1;
      const c = r < heap.length && before(heap[r]!, heap[l]!) ? r : l;
      if (!before(heap[c]!, item)) break;
      heap[i] = heap[c]!;
      i = c;
    }
    heap[i] = item;
  }

  function push(name: number): void {
    ensureRoom(name);
    if (inHeap[name]) return;
    inHeap[name] = 1;
    if (seq[name]! < 0) seq[name] = nextSeq++;
    let i = heap.length;
    heap.push(name);
    if (dirty) return;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(name, heap[parent]!)) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = name;
  }

  function pop(): void {
    inHeap[heap[0]!] = 0;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    siftDown(0);
  }

  return {
    required(name) {
      const s = names[name]!;
      if (s.cls === 3) push(name);
      else if (!s.listed) {
        s.listed = true;
        lists[s.cls]!.push(name);
      }
    },
    undecided(name) {
      if (names[name]!.cls === 3) push(name);
    },
    backtracked() {
      ptr.fill(0);
    },
    conflict(inc) {
      for (const t of inc.terms) {
        if (names[t.name]!.cls !== 3) continue;
        ensureRoom(t.name);
        activity[t.name]! += bump;
      }
      bump *= 1.05;
      if (bump > 1e100) {
        for (let i = 0; i < activity.length; i++) activity[i]! *= 1e-100;
        bump *= 1e-100;
      }
      dirty = true;
    },
    next() {
      for (let c = 0; c < 3; c++) {
        const list = lists[c]!;
        let i = ptr[c]!;
        while (i < list.length && names[list[i]!]!.decision >= 0) i++;
        ptr[c] = i;
        for (let j = i; j < list.length; j++) {
          const s = names[list[j]!]!;
          if (s.decision < 0 && s.accHas && s.accPos) return list[j]!;
        }
      }
      if (dirty) {
        for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);
        dirty = false;
      }
      while (heap.length > 0) {
        const top = heap[0]!;
        const s = names[top]!;
        if (s.decision < 0 && s.accHas && s.accPos) return top;
        pop();
      }
      return -1;
    },
  };
}
