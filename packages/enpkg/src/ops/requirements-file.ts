/** `install -r FILE`: the `name version-build` lines `enpkg freeze` prints, as exact requirements. */
import { closeSync, fstatSync, openSync, readFileSync } from 'node:fs';
import { constants } from 'node:fs';
import { EnpkgErrorCodes, ErrorCodes, PkgError } from '../errors.js';

/** The file's text; a FIFO, a device or a directory is refused before it is read (it could block forever). */
export function readRegularFile(path: string, what = '', hint = 'give the file written by enpkg freeze'): string {
  const named = what ? `${what} ${path}` : path;
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new PkgError(ErrorCodes.FILE_NOT_FOUND, `cannot read ${named}: ${code === 'ENOENT' ? 'no such file' : (code ?? String(e))}`, {
      hint,
      cause: e,
      details: { path },
    });
  }
  try {
    if (!fstatSync(fd).isFile()) {
      throw new PkgError(ErrorCodes.FILE_NOT_FOUND, `cannot read ${named}: it is not a regular file`, {
        hint,
        details: { path },
      });
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

export function readRequirementsFile(path: string): string[] {
  const out: string[] = [];
  for (const [i, raw] of readRegularFile(path).split(/\r?\n/).entries()) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const m = /^(\S+)\s+(\S+-\d+)$/.exec(line);
    if (!m) {
      throw new PkgError(EnpkgErrorCodes.REQUIREMENT_INVALID, `${path} line ${i + 1}: expected "name version-build", found "${line}"`, {
        hint: 'write one package per line, as enpkg freeze prints them',
        details: { path, line: i + 1 },
      });
    }
    out.push(`${m[1]} == ${m[2]}`);
  }
  return out;
}
