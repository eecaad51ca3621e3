/**
 * Escaping for display, done once, at render time: messages and data carry raw strings (archive
 * names, record paths, script output, a lock holder's command line), and whatever prints them for a
 * terminal passes them through here, so that no outside string can move the cursor, retitle the
 * window, reorder the text (bidi controls) or fake a line break (U+2028/U+2029).
 */

/** C0 controls, DEL, C1 controls, the line and paragraph separators, the bidi embeddings, overrides and isolates. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** The same, but newline and tab pass (text of several lines, such as a script's output). */
const UNSAFE_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
/** What JSON.stringify leaves raw but a terminal would act on. */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const SHORT = new Map([
  ['\b', '\\b'],
  ['\t', '\\t'],
  ['\n', '\\n'],
  ['\f', '\\f'],
  ['\r', '\\r'],
]);

/** As JSON would write it: `\n`, `\t`, ... or `\u001b`, so text and --json output show a name alike. */
const escapeChar = (c: string): string => SHORT.get(c) ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/** One line for a terminal: every control character (C0, DEL, C1, bidi, U+2028/2029) escaped, newlines too. */
export function escapeForTerminal(text: string): string {
  return text.replace(UNSAFE, escapeChar);
}

/** Like `escapeForTerminal`, for text of several lines: newlines and tabs are kept. */
export function escapeLinesForTerminal(text: string): string {
  return text.replace(UNSAFE_BUT_LINES, escapeChar);
}

/**
 * JSON text that is safe on a terminal too: raw values, JSON-escaped, with C1 controls, DEL, bidi
 * controls and U+2028/2029 (which JSON.stringify leaves as they are) written as `\uXXXX`.
 */
export function jsonForTerminal(value: unknown, indent?: number): string {
  return JSON.stringify(value, null, indent).replace(UNSAFE_IN_JSON, escapeChar);
}
