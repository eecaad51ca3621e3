/**
 * The launchers `<prefix>/bin/enpkg` and `<prefix>/bin/egginst`: small POSIX shell scripts that run
 * the version the pointer names (pointer.ts) with the system's Node. They hold no version of their
 * own, so a switch never touches them. `bin/enpkg` also watches the first start of a version after a
 * switch: if that start fails before the new version confirms it (start.ts creates `started` in its
 * directory), the launcher puts the previous version back, says so, and runs the same command with it.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PkgError } from 'egginst/core';
import { writeAtomically } from './pointer.js';
import { EnpkgErrorCodes } from '../errors.js';

/** The first line after the shebang: how a launcher is told from a file that only has the same name. */
export const LAUNCHER_MARK = '# enpkg launcher';

export const LAUNCHERS = [
  { name: 'enpkg', entry: 'enpkg.js', flags: '', trial: true },
  // A small young generation keeps egginst's peak memory low while thousands of files stream through.
  { name: 'egginst', entry: 'egginst.js', flags: '--max-semi-space-size=1 --heap-growing-percent=10', trial: false },
] as const;

const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export function launcherScript(home: string, nodePath: string, l: (typeof LAUNCHERS)[number]): string {
  const run = (version: string): string => `"$node" ${l.flags ? `${l.flags} ` : ''}"$self/${version}/${l.entry}" "$@"`;
  const lines = [
    '#!/bin/sh',
    `${LAUNCHER_MARK} (written by enpkg bootstrap and kept current by enpkg self-update).`,
    `# Runs ${l.entry} of the version named in <prefix>/.enpkg/self/current with the system's Node.`,
    `home=${quote(home)}`,
    'self="$home/.enpkg/self"',
    `node="\${ENPKG_NODE:-${nodePath.replace(/[\\"$`]/g, '\\$&')}}"`,
    '[ -x "$node" ] || node=node',
    'read_pointer() {',
    '  current= previous= trial= failed=',
    '  [ -r "$self/current" ] || return 1',
    '  while IFS== read -r key value || [ -n "$key" ]; do',
    '    case $key in',
    '      current) current=$value ;;',
    '      previous) previous=$value ;;',
    '      trial) trial=$value ;;',
    '      failed) failed=$value ;;',
    '    esac',
    '  done < "$self/current"',
    '  [ -n "$current" ]',
    '}',
    'if ! read_pointer; then',
    `  echo "${l.name}: no enpkg is installed in $home ($self/current is missing or damaged)" >&2`,
    '  echo "  hint: run enpkg bootstrap --prefix $home" >&2',
    '  exit 70',
    'fi',
    'export ENPKG_HOME="$home"',
    'unset ENPKG_TRIAL ENPKG_SMOKE',
  ];
  if (!l.trial) {
    lines.push('export EGGINST_PREFIX="${EGGINST_PREFIX:-$home}"', `exec ${run('$current')}`);
  } else {
    lines.push(
      `{ [ "$trial" = "$current" ] && [ ! -e "$self/$current/started" ]; } || exec ${run('$current')}`,
      '# The first start of this version since the switch: once it runs, it creates $self/$current/started.',
      `ENPKG_TRIAL=1 ${run('$current')}`,
      'status=$?',
      '{ [ "$status" -eq 0 ] || [ -e "$self/$current/started" ]; } && exit "$status"',
      'tried=$current',
      'read_pointer || exit "$status"',
      '{ [ "$current" = "$tried" ] && [ "$trial" = "$tried" ] && [ -n "$previous" ] && [ -d "$self/$previous" ]; } || exit "$status"',
      'tmp="$self/current.tmp-$$"',
      `printf '%s\\ncurrent=%s\\nprevious=\\ntrial=\\nfailed=%s\\n' '# written by the enpkg launcher after a failed first start' \\`,
      `  "$previous" "\${failed:+$failed }$tried" >"$tmp" && mv -f "$tmp" "$self/current" || exit "$status"`,
      'echo "enpkg: enpkg $tried failed to start (exit status $status); went back to enpkg $previous" >&2',
      `exec ${run('$previous')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Is `path` one of our launchers (or absent)? Anything else there is not ours to replace. */
export function isLauncherOrAbsent(path: string): boolean {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
  return text.split('\n', 3)[1]?.startsWith(LAUNCHER_MARK) ?? false;
}

/** Refuse before anything changes if a launcher would replace somebody else's file. */
export function checkLauncherPaths(home: string): void {
  for (const l of LAUNCHERS) {
    const path = join(home, 'bin', l.name);
    if (!isLauncherOrAbsent(path)) {
      throw new PkgError(EnpkgErrorCodes.SELF_LAUNCHER_CONFLICT, `${path} exists and is not an enpkg launcher`, {
        hint: 'remove it (or the package that installed it), or bootstrap into another prefix',
      });
    }
  }
}

/** Write (or bring up to date) both launchers; each is replaced whole by a rename. */
export function writeLaunchers(home: string, nodePath: string): boolean {
  let changed = false;
  mkdirSync(join(home, 'bin'), { recursive: true });
  for (const l of LAUNCHERS) {
    const path = join(home, 'bin', l.name);
    const text = launcherScript(home, nodePath, l);
    let old: string | null = null;
    try {
      old = readFileSync(path, 'utf8');
    } catch {
      old = null;
    }
    if (old === text) continue;
    writeAtomically(path, text, 0o755);
    changed = true;
  }
  return changed;
}
