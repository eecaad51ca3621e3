/**
 * The short form of a long explanation: the shortest chain of steps from the request to a conflict
 * between two facts, found as a shortest path through the derivation DAG of the final incompatibility
 * (breadth-first, by number of steps). Each line is one step of that path, deepest first, so the
 * conclusion stays last; a fact the chain uses without deriving it is stated as what it concludes
 * (true, and derived in full by `-v`).
 */
import type { Incompat } from './model.js';
import type { Pool } from './pool.js';
import { cap, clash, conclusionText, createContext, externalText, finish, isDerived, ordered, text, type Context } from './explain.js';

/** Explanations longer than this show the shortest chain and a count of the rest (`-v`: all). */
export const EXPLANATION_LINES = 15;
/** When the chain itself is too long: its first steps and its last ones (the conclusion). */
const CONCLUSION_LINES = 4;

/** The derived incompatibilities from `failure` down to the nearest one whose two causes are both external. */
function shortestPath(failure: Incompat): Incompat[] {
  const parent = new Map<Incompat, Incompat | null>([[failure, null]]);
  const queue: Incompat[] = [failure];
  let bottom = failure;
  for (let i = 0; i < queue.length; i++) {
    const inc = queue[i]!;
    if (inc.cause.kind !== 'derived') continue;
    const { left, right } = inc.cause;
    if (!isDerived(left) && !isDerived(right)) {
      bottom = inc;
      break;
    }
    for (const c of [left, right]) {
      if (!isDerived(c) || parent.has(c)) continue;
      parent.set(c, inc);
      queue.push(c);
    }
  }
  const path: Incompat[] = [];
  for (let at: Incompat | null | undefined = bottom; at; at = parent.get(at)) path.push(at);
  return path;
}

function derivedCount(failure: Incompat): number {
  const seen = new Set<Incompat>();
  const walk = (inc: Incompat): void => {
    if (inc.cause.kind !== 'derived' || seen.has(inc)) return;
    seen.add(inc);
    walk(inc.cause.left);
    walk(inc.cause.right);
  };
  walk(failure);
  return seen.size;
}

function step(ctx: Context, inc: Incompat, below: Incompat | null): string {
  if (inc.cause.kind !== 'derived') return `${cap(externalText(ctx, inc))}.`;
  const concl = conclusionText(ctx, inc);
  const so = concl === null ? '' : `, so ${concl}`;
  const { left, right } = inc.cause;
  if (below === null) {
    const [a, b] = ordered(left, right);
    return `${cap(externalText(ctx, a))}, ${clash(a, b) ? 'but' : 'and'} ${externalText(ctx, b)}${so}.`;
  }
  const side = below === left ? right : left;
  return `${cap(clash(below, side) ? 'but' : 'and')} ${text(ctx, side)}${so}.`;
}

/**
 * What an unsatisfiable request shows by default: `lines` (the whole explanation) when it fits in
 * EXPLANATION_LINES, else the shortest chain with "... and N more steps; -v for all" before its
 * conclusion (N: the derivation steps not shown).
 */
export function shortExplanation(pool: Pool, failure: Incompat, lines: readonly string[]): string[] {
  if (lines.length <= EXPLANATION_LINES) return [...lines];
  const ctx = createContext(pool);
  const path = shortestPath(failure);
  const chain = finish(path.map((inc, i) => step(ctx, inc, i === 0 ? null : path[i - 1]!)));
  const total = derivedCount(failure);
  if (chain.length < EXPLANATION_LINES) {
    const note = `... and ${total - chain.length} more steps; -v for all`;
    return [...chain.slice(0, -1), note, chain[chain.length - 1]!];
  }
  const head = EXPLANATION_LINES - CONCLUSION_LINES - 1;
  const note = `... and ${total - head - CONCLUSION_LINES} more steps; -v for all`;
  return [...chain.slice(0, head), note, ...chain.slice(-CONCLUSION_LINES)];
}
