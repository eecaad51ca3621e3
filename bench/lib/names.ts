/** Package names for the synthetic universes: every number its own pronounceable stem. */

const SYLLABLES = ['ba', 'co', 'di', 'fu', 'ga', 'hi', 'jo', 'ku', 'la', 'me', 'ni', 'po', 'qu', 'ra', 'si', 'tu', 'vo', 'wa', 'xe', 'zy'];

/** `i` written in base 20 with a syllable a digit, lowest first (0 -> "ba", 21 -> "coco"). */
export function syllableStem(i: number): string {
  let s = '';
  let n = i;
  do {
    s += SYLLABLES[n % SYLLABLES.length];
    n = Math.floor(n / SYLLABLES.length);
  } while (n > 0);
  return s;
}
