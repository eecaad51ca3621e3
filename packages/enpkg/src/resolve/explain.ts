/**
 * Turn the solver's failure (an incompatibility and its derivation tree) into lines a person can act
 * on: each external fact names who required what ("pandas 0.18.0-1 requires numpy 1.9.2-1", "numpy
 * 1.9.2-2 was requested", "pandas must stay installed"), and derived facts are chained with "so".
 * The structure follows PubGrub's reporter: facts used more than once get a line number.
 */
import { packageLabel } from '../version.js';
import type { Incompat, NameState, Term } from './model.js';
import { ROOT, type Pool } from './pool.js';
import type { Repository } from './repository.js';
import { missingText } from './problem.js';
import { indices, setEquals, type VSet } from './vset.js';

export interface Context {
  readonly names: readonly NameState[];
  readonly repo: Repository;
  readonly lines: string[];
  readonly lineOf: Map<Incompat, number>;
  readonly uses: Map<Incompat, number>;
  next: number;
}

export const isDerived = (i: Incompat): boolean => i.cause.kind === 'derived';

function ver(s: NameState, i: number): string {
  const p = s.cands[i]!;
  return `${p.version}-${p.build}`;
}

function joinList(items: readonly string[], conj: string): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} ${conj} ${items[items.length - 1]}`;
}

interface Described {
  readonly text: string;
  readonly plural: boolean;
}

/** "pandas 0.18.0-1", "pandas >= 0.15.0-1", "pandas 0.16.0-1 and 0.18.0-1", "every version of pandas". */
function describeSet(s: NameState, set: VSet, conj: 'and' | 'or', subject: boolean): Described {
  const idx = indices(set, s.n);
  if (idx.length === 0) return { text: `no version of ${s.name}`, plural: false };
  if (idx.length === 1) return { text: packageLabel(s.cands[idx[0]!]!), plural: false };
  if (idx.length === s.n) return { text: subject ? `every version of ${s.name}` : s.name, plural: false };
  const lo = idx[0]!;
  const hi = idx[idx.length - 1]!;
  const contiguous = hi - lo + 1 === idx.length;
  if (contiguous && idx.length > 2) {
    if (lo === 0) return { text: `${s.name} >= ${ver(s, hi)}`, plural: false };
    if (hi === s.n - 1) return { text: `${s.name} <= ${ver(s, lo)}`, plural: false };
    return { text: `${s.name} ${ver(s, hi)} to ${ver(s, lo)}`, plural: true };
  }
  const oldestFirst = idx
    .slice()
    .reverse()
    .map((i) => ver(s, i));
  if (oldestFirst.length <= 4) return { text: `${s.name} ${joinList(oldestFirst, conj)}`, plural: conj === 'and' };
  return { text: `${idx.length} versions of ${s.name} (${oldestFirst[0]} ... ${oldestFirst[oldestFirst.length - 1]})`, plural: true };
}

function subjectOf(ctx: Context, t: Term): Described {
  return describeSet(ctx.names[t.name]!, t.set, 'and', true);
}

function objectOf(ctx: Context, t: Term): string {
  return describeSet(ctx.names[t.name]!, t.set, 'or', false).text;
}

const requires = (d: Described): string => (d.plural ? 'require' : 'requires');

/** The statement an external (not derived) incompatibility makes. */
export function externalText(ctx: Context, inc: Incompat): string {
  const c = inc.cause;
  const nameOf = (t: Term | undefined): string => (t ? ctx.names[t.name]!.name : 'the request');
  const other = inc.terms.find((t) => t.name !== ROOT);
  switch (c.kind) {
    case 'root':
      return 'the request must be satisfied';
    case 'job':
      switch (c.job.kind) {
        case 'install':
          return `${c.job.requirement.text} was requested`;
        case 'update':
          return `updating ${c.job.requirement.text} was requested`;
        case 'remove':
          return `removing ${nameOf(other)} was requested`;
        case 'update_all':
          return 'updating everything was requested';
      }
      break;
    case 'marked':
      return `${nameOf(other)} must stay installed (it was installed on request)`;
    case 'dependency': {
      const subject = subjectOf(ctx, inc.terms[0]!);
      const target = inc.terms[1];
      // Versions that share a dependency may word it differently: then say what it allows.
      const required = c.sameText || target === undefined ? c.requirement.text : objectOf(ctx, target);
      const base = `${subject.text} ${requires(subject)} ${required}`;
      if (inc.terms.length === 1 && inc.terms[0]!.name !== c.target) {
        return `${base}, but ${missingText(ctx.names[c.target]!, 'it', ctx.repo)}`;
      }
      if (inc.terms.length === 1) return `${base}, which it does not satisfy itself`;
      return base;
    }
    case 'invalid':
      return `${subjectOf(ctx, inc.terms[0]!).text} cannot be used: ${c.message}`;
    case 'bound':
    case 'derived':
      break;
  }
  return conclusionText(ctx, inc) ?? 'the request cannot be satisfied';
}

/** What a derived incompatibility concludes; null for the final failure. */
export function conclusionText(ctx: Context, inc: Incompat): string | null {
  const terms = inc.terms.filter((t) => !(t.name === ROOT && t.pos));
  if (terms.length === 0) return null;
  const all = (t: Term): boolean => setEquals(t.set, ctx.names[t.name]!.all);
  if (terms.length === 1) {
    const t = terms[0]!;
    if (t.pos) {
      const s = ctx.names[t.name]!;
      if (all(t) && s.n > 1) return `no version of ${s.name} can be installed`;
      if (all(t)) return `${subjectOf(ctx, t).text} (the only version of ${s.name}) cannot be installed`;
      return `${subjectOf(ctx, t).text} cannot be installed`;
    }
    return `${objectOf(ctx, t)} must be installed`;
  }
  if (terms.length === 2) {
    const [a, b] = terms as [Term, Term];
    if (a.pos !== b.pos) {
      const p = a.pos ? a : b;
      const n = a.pos ? b : a;
      const subject = subjectOf(ctx, p);
      return `${subject.text} ${requires(subject)} ${objectOf(ctx, n)}`;
    }
    if (a.pos) {
      const sa = ctx.names[a.name]!;
      const who = all(a) && sa.n > 1 ? `no version of ${sa.name} can` : `${subjectOf(ctx, a).text} cannot`;
      return `${who} be installed together with ${objectOf(ctx, b)}`;
    }
    return `${objectOf(ctx, a)} or ${objectOf(ctx, b)} must be installed`;
  }
  const parts = terms.map((t) => {
    if (!t.pos) return `${objectOf(ctx, t)} is not installed`;
    const subject = subjectOf(ctx, t);
    return `${subject.text} ${subject.plural ? 'are' : 'is'} installed`;
  });
  return `these cannot all be true: ${joinList(parts, 'and')}`;
}

export function text(ctx: Context, inc: Incompat): string {
  return isDerived(inc) ? (conclusionText(ctx, inc) ?? 'the request cannot be satisfied') : externalText(ctx, inc);
}

/** A missing-dependency fact, whose text already says "but no version ... matches". */
function isMissing(i: Incompat): boolean {
  return i.cause.kind === 'dependency' && i.terms.length === 1 && i.terms[0]!.name !== i.cause.target;
}

/**
 * Whether two facts clash on the package they share (read "A, but B") rather than chain ("A, and B"):
 * both require it in different versions, or one requires it and the other only forbids it.
 */
export function clash(a: Incompat, b: Incompat): boolean {
  if (isMissing(a) || isMissing(b)) return false;
  for (const t of a.terms) {
    if (t.name === ROOT) continue;
    const u = b.terms.find((x) => x.name === t.name);
    if (!u) continue;
    if (!t.pos && !u.pos) return true;
    if (t.pos === u.pos) return false;
    // "X cannot be installed" against "X must be installed"; not a chain through X.
    const forbidding = t.pos ? a : b;
    return forbidding.terms.filter((x) => x.name !== ROOT).length === 1;
  }
  return false;
}

/** Order two facts so that the one that requires the shared package reads first. */
export function ordered(a: Incompat, b: Incompat): [Incompat, Incompat] {
  for (const t of a.terms) {
    if (t.name === ROOT) continue;
    const u = b.terms.find((x) => x.name === t.name);
    if (!u) continue;
    if (!t.pos && !u.pos) return isRootFact(a) && !isRootFact(b) ? [b, a] : [a, b];
    if (t.pos && !u.pos) return [b, a];
    return [a, b];
  }
  return [a, b];
}

function isRootFact(i: Incompat): boolean {
  return i.terms.some((t) => t.name === ROOT);
}

/** Capitalize a connecting word; statements start with package names, whose case is kept. */
export const cap = (s: string): string => (/^(and|but|so)\b/.test(s) ? s.charAt(0).toUpperCase() + s.slice(1) : s);

function write(ctx: Context, inc: Incompat, body: string, numbered: boolean): void {
  if (numbered) {
    const n = ctx.next++;
    ctx.lineOf.set(inc, n);
    ctx.lines.push(`(${n}) ${body}`);
  } else {
    ctx.lines.push(body);
  }
}

function countUses(ctx: Context, inc: Incompat): void {
  if (inc.cause.kind !== 'derived') return;
  for (const c of [inc.cause.left, inc.cause.right]) {
    const n = (ctx.uses.get(c) ?? 0) + 1;
    ctx.uses.set(c, n);
    if (n === 1) countUses(ctx, c);
  }
}

function isCollapsible(ctx: Context, inc: Incompat): boolean {
  if ((ctx.uses.get(inc) ?? 0) > 1 || inc.cause.kind !== 'derived') return false;
  const { left, right } = inc.cause;
  if (isDerived(left) === isDerived(right)) return false;
  const complex = isDerived(left) ? left : right;
  return !ctx.lineOf.has(complex);
}

function visit(ctx: Context, inc: Incompat, conclusion = false): void {
  if (inc.cause.kind !== 'derived') return;
  const numbered = conclusion || (ctx.uses.get(inc) ?? 0) > 1;
  const { left, right } = inc.cause;
  const concl = conclusionText(ctx, inc);
  const so = concl === null ? '' : `, so ${concl}`;
  const conj = (a: Incompat, b: Incompat): string => (clash(a, b) ? 'but' : 'and');
  const ref = (i: Incompat): string => `${text(ctx, i)} (${ctx.lineOf.get(i)})`;

  if (isDerived(left) && isDerived(right)) {
    const l1 = ctx.lineOf.get(left);
    const l2 = ctx.lineOf.get(right);
    if (l1 !== undefined && l2 !== undefined) {
      write(ctx, inc, `${cap(ref(left))}, ${conj(left, right)} ${ref(right)}${so}.`, numbered);
    } else if (l1 !== undefined || l2 !== undefined) {
      const withLine = l1 !== undefined ? left : right;
      const without = l1 !== undefined ? right : left;
      visit(ctx, without);
      write(ctx, inc, `${cap(conj(without, withLine))} ${ref(withLine)}${so}.`, numbered);
    } else {
      const single = (i: Incompat): boolean => i.cause.kind === 'derived' && !isDerived(i.cause.left) && !isDerived(i.cause.right);
      if (single(left) || single(right)) {
        const firstOne = single(right) ? left : right;
        const second = single(right) ? right : left;
        visit(ctx, firstOne);
        visit(ctx, second);
        write(ctx, inc, `So ${concl ?? 'the request cannot be satisfied'}.`, numbered);
      } else {
        visit(ctx, left, true);
        visit(ctx, right);
        write(ctx, inc, `${cap(conj(right, left))} ${ref(left)}${so}.`, numbered);
      }
    }
    return;
  }
  if (isDerived(left) || isDerived(right)) {
    const derived = isDerived(left) ? left : right;
    const ext = isDerived(left) ? right : left;
    const line = ctx.lineOf.get(derived);
    if (line !== undefined) {
      write(ctx, inc, `${cap(externalText(ctx, ext))}, ${conj(ext, derived)} ${ref(derived)}${so}.`, numbered);
    } else if (isCollapsible(ctx, derived) && derived.cause.kind === 'derived') {
      const dc = derived.cause;
      const innerDerived = isDerived(dc.left) ? dc.left : dc.right;
      const innerExt = isDerived(dc.left) ? dc.right : dc.left;
      visit(ctx, innerDerived);
      write(
        ctx,
        inc,
        `${cap(conj(innerDerived, innerExt))} ${externalText(ctx, innerExt)}, ${conj(innerExt, ext)} ${externalText(ctx, ext)}${so}.`,
        numbered,
      );
    } else {
      visit(ctx, derived);
      write(ctx, inc, `${cap(conj(derived, ext))} ${externalText(ctx, ext)}${so}.`, numbered);
    }
    return;
  }
  const [a, b] = ordered(left, right);
  write(ctx, inc, `${cap(externalText(ctx, a))}, ${conj(a, b)} ${externalText(ctx, b)}${so}.`, numbered);
}

export function createContext(pool: Pool): Context {
  return { names: pool.names, repo: pool.repo, lines: [], lineOf: new Map(), uses: new Map(), next: 1 };
}

/** A statement that ends in a question ("did you mean numpy?") needs no full stop. */
export const finish = (lines: readonly string[]): string[] => lines.map((l) => l.replace(/\?\.$/, '?'));

/** The explanation of an unsatisfiable request, one statement per line. */
export function explain(pool: Pool, failure: Incompat): string[] {
  const ctx = createContext(pool);
  if (failure.cause.kind !== 'derived') return [`${cap(externalText(ctx, failure))}.`];
  countUses(ctx, failure);
  visit(ctx, failure);
  return finish(ctx.lines);
}
