/** `install -r FILE`: the `name version-build` lines `enpkg freeze` prints, as exact requirements. */
import { EnpkgErrorCodes, ErrorCodes, PkgError } from '../errors.js';
import { readFailure, readRegularFileSync } from '../readfile.js';

/** The file's text; a FIFO, a device or a directory is refused before it is read (it could block forever). */
export function readRegularFile(path: string, what = '', hint = 'give the file written by enpkg freeze'): string {
  try {
    return readRegularFileSync(path).toString('utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : readFailure(e);
    throw new PkgError(ErrorCodes.FILE_NOT_FOUND, `cannot read ${what ? `${what} ${path}` : path}: ${why}`, {
      hint,
      cause: e,
      details: { path },
    });
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
