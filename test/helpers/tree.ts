/**
 * A fingerprint of a directory tree: every entry's relative path, type, permission bits, and the
 * sha256 of a file's content or a link's target. Nothing is skipped; mtimes are not part of it.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';

function typeOf(st: Stats): string {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'link';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'char';
  if (st.isBlockDevice()) return 'block';
  return 'unknown';
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function describe(root: string, rel: string): Promise<{ line: string; isDir: boolean }> {
  const abs = rel === '.' ? root : join(root, rel);
  const st = await lstat(abs);
  const type = typeOf(st);
  const mode = (st.mode & 0o7777).toString(8).padStart(4, '0');
  let detail = '';
  if (type === 'file') detail = ` ${st.size} ${await sha256File(abs)}`;
  else if (type === 'link') detail = ` -> ${JSON.stringify(await readlink(abs))}`;
  // Paths are JSON-quoted so that no name (a newline in one, say) can make two trees list alike.
  return { line: `${type} ${mode} ${JSON.stringify(rel)}${detail}`, isDir: type === 'dir' };
}

/** One line per entry (the root itself is "."), sorted by path: readable in assertion diffs. */
export async function treeListing(root: string): Promise<string[]> {
  const lines: Array<[string, string]> = [];
  const walk = async (rel: string): Promise<void> => {
    const { line, isDir } = await describe(root, rel);
    lines.push([rel, line]);
    if (!isDir) return;
    const names = (await readdir(rel === '.' ? root : join(root, rel))).sort();
    for (const name of names) await walk(rel === '.' ? name : `${rel}/${name}`);
  };
  await walk('.');
  return lines.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, line]) => line);
}

/** sha256 over `treeListing(root)`. */
export async function treeHash(root: string): Promise<string> {
  return createHash('sha256')
    .update((await treeListing(root)).join('\n'))
    .digest('hex');
}
