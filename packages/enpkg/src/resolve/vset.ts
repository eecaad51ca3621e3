/**
 * Sets of candidate versions of one package, as bitsets over the package's candidate list (index 0 =
 * the preferred-by-default newest). Up to 32 candidates a set is a plain int32 number, so the common
 * case allocates nothing; larger packages use an Int32Array of words. All sets of one package have
 * the same representation. Sets are immutable values.
 */

export type VSet = number | Int32Array;

export function fullSet(n: number): VSet {
  if (n <= 32) return n === 32 ? -1 : (1 << n) - 1;
  const w = new Int32Array((n + 31) >>> 5);
  w.fill(-1);
  const rem = n & 31;
  if (rem) w[w.length - 1] = (1 << rem) - 1;
  return w;
}

export function emptySet(n: number): VSet {
  return n <= 32 ? 0 : new Int32Array((n + 31) >>> 5);
}

export function singleSet(n: number, i: number): VSet {
  if (n <= 32) return 1 << i;
  const w = new Int32Array((n + 31) >>> 5);
  w[i >>> 5] = 1 << (i & 31);
  return w;
}

/** A set from a predicate over the candidate indices 0..n-1. */
export function setOf(n: number, pred: (i: number) => boolean): VSet {
  if (n <= 32) {
    let s = 0;
    for (let i = 0; i < n; i++) if (pred(i)) s |= 1 << i;
    return s;
  }
  const w = new Int32Array((n + 31) >>> 5);
  for (let i = 0; i < n; i++) if (pred(i)) w[i >>> 5]! |= 1 << (i & 31);
  return w;
}

export function and(a: VSet, b: VSet): VSet {
  if (typeof a === 'number') return a & (b as number);
  const bb = b as Int32Array;
  const r = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = a[i]! & bb[i]!;
  return r;
}

export function or(a: VSet, b: VSet): VSet {
  if (typeof a === 'number') return a | (b as number);
  const bb = b as Int32Array;
  const r = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = a[i]! | bb[i]!;
  return r;
}

/** a \ b */
export function minus(a: VSet, b: VSet): VSet {
  if (typeof a === 'number') return a & ~(b as number);
  const bb = b as Int32Array;
  const r = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) r[i] = a[i]! & ~bb[i]!;
  return r;
}

export function isEmpty(a: VSet): boolean {
  if (typeof a === 'number') return a === 0;
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

/** a ⊆ b */
export function isSubset(a: VSet, b: VSet): boolean {
  if (typeof a === 'number') return (a & ~(b as number)) === 0;
  const bb = b as Int32Array;
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~bb[i]!) !== 0) return false;
  return true;
}

export function isDisjoint(a: VSet, b: VSet): boolean {
  if (typeof a === 'number') return (a & (b as number)) === 0;
  const bb = b as Int32Array;
  for (let i = 0; i < a.length; i++) if ((a[i]! & bb[i]!) !== 0) return false;
  return true;
}

export function setEquals(a: VSet, b: VSet): boolean {
  if (typeof a === 'number') return a === b;
  const bb = b as Int32Array;
  for (let i = 0; i < a.length; i++) if (a[i] !== bb[i]) return false;
  return true;
}

export function has(a: VSet, i: number): boolean {
  if (typeof a === 'number') return ((a >>> i) & 1) === 1;
  return ((a[i >>> 5]! >>> (i & 31)) & 1) === 1;
}

/** The lowest index in the set, or -1. */
export function first(a: VSet): number {
  if (typeof a === 'number') return a === 0 ? -1 : 31 - Math.clz32(a & -a);
  for (let w = 0; w < a.length; w++) {
    const x = a[w]!;
    if (x !== 0) return (w << 5) + 31 - Math.clz32(x & -x);
  }
  return -1;
}

export function count(a: VSet): number {
  if (typeof a === 'number') return popcount(a);
  let c = 0;
  for (let i = 0; i < a.length; i++) c += popcount(a[i]!);
  return c;
}

function popcount(x: number): number {
  x = x - ((x >>> 1) & 0x55555555);
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  return (((x + (x >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

export function indices(a: VSet, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) if (has(a, i)) out.push(i);
  return out;
}

/** A key identifying the set's contents (for grouping equal sets). */
export function setKey(a: VSet): string {
  return typeof a === 'number' ? String(a) : a.join(',');
}

export function setFromIndices(n: number, members: readonly number[]): VSet {
  if (n <= 32) {
    let s = 0;
    for (const i of members) s |= 1 << i;
    return s;
  }
  const w = new Int32Array((n + 31) >>> 5);
  for (const i of members) w[i >>> 5]! |= 1 << (i & 31);
  return w;
}
