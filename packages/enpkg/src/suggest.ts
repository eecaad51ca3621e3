/**
 * "Did you mean": the names closest to a misspelt one, by edit distance (fastest-levenshtein),
 * case-insensitively. The one mechanism for every "no package named X" (resolver, CLI).
 */
import { distance } from 'fastest-levenshtein';

/**
 * Up to `limit` names from `names` within a small edit distance of `name` (1 for names up to 5
 * characters, then one more per 3 characters, at most 3), closest first, then alphabetically; each
 * spelled as first given. The name itself (in any case) is not suggested.
 */
export function closestNames(name: string, names: Iterable<string>, limit = 3): string[] {
  const wanted = name.toLowerCase();
  const cutoff = Math.min(3, Math.max(1, Math.floor(wanted.length / 3)));
  const seen = new Set<string>();
  const found: { name: string; key: string; d: number }[] = [];
  for (const n of names) {
    const key = n.toLowerCase();
    if (key === wanted || seen.has(key)) continue;
    seen.add(key);
    if (Math.abs(key.length - wanted.length) > cutoff) continue;
    const d = distance(wanted, key);
    if (d <= cutoff) found.push({ name: n, key, d });
  }
  found.sort((a, b) => a.d - b.d || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return found.slice(0, limit).map((f) => f.name);
}
