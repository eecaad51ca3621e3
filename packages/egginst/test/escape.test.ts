import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeForTerminal, escapeLinesForTerminal, jsonForTerminal } from '../src/escape.js';

/** Every character a terminal may act on: C0, DEL, C1, U+2028/2029, bidi embeddings, overrides and isolates. */
const UNSAFE = [
  ...Array.from({ length: 0x20 }, (_, i) => i),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x2028,
  0x2029,
  0x202a,
  0x202b,
  0x202c,
  0x202d,
  0x202e,
  0x2066,
  0x2067,
  0x2068,
  0x2069,
].map((c) => String.fromCharCode(c));

const hex = (c: string): string => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

test('escapeForTerminal escapes every control character, as JSON would write it', () => {
  for (const c of UNSAFE) {
    const shown = escapeForTerminal(`a${c}b`);
    assert.ok(!shown.includes(c), `U+${c.charCodeAt(0).toString(16)} is escaped`);
    assert.match(shown, /^a\\(u[0-9a-f]{4}|[btnfr])b$/);
  }
  assert.equal(escapeForTerminal('a\nb\tc\rd'), 'a\\nb\\tc\\rd');
  assert.equal(escapeForTerminal('\x1b]0;owned\x07'), '\\u001b]0;owned\\u0007');
  assert.equal(escapeForTerminal('\x7f\x85\x9b'), '\\u007f\\u0085\\u009b');
  assert.equal(escapeForTerminal('evil\u202egnp.exe'), 'evil\\u202egnp.exe');
  assert.equal(escapeForTerminal('a\u2028b\u2029c'), 'a\\u2028b\\u2029c');
  assert.equal(escapeForTerminal('\u2066x\u2069'), '\\u2066x\\u2069');
});

test('normal text and Unicode are kept as they are', () => {
  for (const s of [
    'lib/python2.7/site-packages/numpy/__init__.py',
    'caf\u00e9 e\u0301 \u00a0nbsp \u4e2d\u6587 \u05e2\u05d1\u05e8\u05d9\u05ea \ud83d\ude00',
    'back\\slash "quotes" \u00a1\u00ff \u2027 \u202f \u2065 \u206a',
    '',
  ]) {
    assert.equal(escapeForTerminal(s), s);
    assert.equal(escapeLinesForTerminal(s), s);
  }
});

test('escapeLinesForTerminal keeps newlines and tabs, and escapes the rest', () => {
  assert.equal(escapeLinesForTerminal('one\n\ttwo\r\n\x1b[2Jthree\u2028'), 'one\n\ttwo\\r\n\\u001b[2Jthree\\u2028');
  for (const c of UNSAFE.filter((c) => c !== '\n' && c !== '\t')) assert.ok(!escapeLinesForTerminal(`a${c}b`).includes(c));
});

test('jsonForTerminal carries raw values, with nothing a terminal acts on in its text', () => {
  const value = { name: UNSAFE.join(''), plain: 'caf\u00e9 \u4e2d' };
  const text = jsonForTerminal(value);
  for (const c of UNSAFE) assert.ok(!text.includes(c), `U+${c.charCodeAt(0).toString(16)} is escaped in the JSON text`);
  assert.deepEqual(JSON.parse(text), value, 'the JSON text parses to the raw values');
  assert.ok(text.includes('caf\u00e9 \u4e2d'), 'normal Unicode stays readable');
  assert.ok(text.includes(hex('\u202e')));
  assert.equal(jsonForTerminal({ a: [1] }, 2), '{\n  "a": [\n    1\n  ]\n}');
});
