/**
 * Hostile or broken configuration input: URLs with credentials (never shown), empty locations, YAML
 * alias bombs and syntax errors (CONFIG_INVALID naming the file and the line), a FIFO for a file.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { loadConfig, PkgError } from 'enpkg';
import { RepoErrorCodes } from '../src/repo/errors.js';
import { redactLocationText } from '../src/repo/location.js';
import { tmp } from './repo-helpers.js';

const SECRET = 's3cr3t-Pa55';

function fails(fn: () => unknown, code: string, ...mentions: string[]): PkgError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof PkgError, `expected a PkgError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  for (const m of mentions) assert.ok(caught.message.includes(m), `${JSON.stringify(caught.message)} does not name ${m}`);
  assert.ok(caught.hint, 'it says what to do');
  return caught;
}

const noSecret = (e: PkgError): void => {
  const all = JSON.stringify({ message: e.message, hint: e.hint, details: e.details });
  assert.ok(!all.includes(SECRET), `the password is shown: ${all}`);
};

test('--repo with user:password@ never shows the password, in any form of URL', (t) => {
  const cwd = tmp(t);
  for (const text of [
    `https://user:${SECRET}@eggs.example.com/main/`,
    `http://user:${SECRET}@eggs.example.com/main/`,
    `https://user:${SECRET}@[not-a-host/main/`,
    `https://eggs.example.com/main/?token=${SECRET}`,
    `ftp://user:${SECRET}@eggs.example.com/`,
    `user:${SECRET}@eggs.example.com/main`,
    `file://user:${SECRET}@host/srv/eggs`,
  ]) {
    let caught: unknown;
    try {
      loadConfig({ repos: [text], env: {}, cwd, home: cwd });
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof PkgError, `${text} is refused`);
    assert.ok(caught.message.startsWith('--repo '), caught.message);
    noSecret(caught);
  }
});

test('a configured URL with credentials is refused without showing them, naming the file and key', (t) => {
  const dir = tmp(t);
  const file = join(dir, 'config.yaml');
  writeFileSync(file, `repositories:\n  - url: https://user:${SECRET}@eggs.example.com/main/\n    mirrors: ["https://u:${SECRET}@m/"]\n`);
  noSecret(fails(() => loadConfig({ configFile: file, env: {} }), RepoErrorCodes.REPO_URL_INVALID, file, 'repositories[0].url'));
  writeFileSync(file, `python: "https://u:${SECRET}@h/"\n`);
  noSecret(fails(() => loadConfig({ configFile: file, env: {} }), RepoErrorCodes.CONFIG_INVALID, file, 'python'));
});

test('--repo "" (or blanks) is a REPO_URL_INVALID naming the empty value, not the working directory', (t) => {
  const cwd = tmp(t);
  for (const text of ['', '   ']) {
    const e = fails(() => loadConfig({ repos: [text], env: {}, cwd, home: cwd }), RepoErrorCodes.REPO_URL_INVALID, '--repo ', 'empty');
    assert.ok(!e.message.includes(cwd), e.message);
  }
});

test('redactLocationText: URLs lose credentials and query; paths are kept', () => {
  assert.equal(redactLocationText('https://u:p@h/x/'), 'https://***@h/x/');
  assert.equal(redactLocationText('https://h/x/?sig=1'), 'https://h/x/?***');
  assert.equal(redactLocationText('https://u:p@[h/x?y'), 'https://***@[h/x?***');
  assert.equal(redactLocationText('u:p@h/x'), 'u:***@h/x');
  assert.equal(redactLocationText('/srv/eggs'), '/srv/eggs');
  assert.equal(redactLocationText('relative/dir'), 'relative/dir');
});

test('a YAML alias bomb is CONFIG_INVALID naming the file, not the yaml library escaping', (t) => {
  const file = join(tmp(t), 'config.yaml');
  const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
  }
  writeFileSync(file, `${levels.join('\n')}\n`);
  const e = fails(() => loadConfig({ configFile: file, env: {} }), RepoErrorCodes.CONFIG_INVALID, file, 'alias');
  assert.equal(e.details.file, file);
});

test('a YAML syntax error is CONFIG_INVALID naming the file and the line, the library text kept raw', (t) => {
  const file = join(tmp(t), 'config.yaml');
  writeFileSync(file, 'prefix: /p\nrepositories: [\n  bad: \x1b[31mred\n');
  const e = fails(() => loadConfig({ configFile: file, env: {} }), RepoErrorCodes.CONFIG_INVALID, file, 'line 3', 'not valid YAML');
  assert.equal(e.details.line, 3);
  assert.equal(typeof e.details.column, 'number');
  writeFileSync(file, 'a: 1\na: 2\n');
  fails(() => loadConfig({ configFile: file, env: {} }), RepoErrorCodes.CONFIG_INVALID, file, 'line 2');
});

test('a configuration file that is a FIFO is CONFIG_INVALID at once, not a hang', (t) => {
  const file = join(tmp(t), 'config.yaml');
  assert.equal(spawnSync('mkfifo', [file]).status, 0);
  fails(() => loadConfig({ configFile: file, env: {} }), RepoErrorCodes.CONFIG_INVALID, file, 'not a regular file');
});
