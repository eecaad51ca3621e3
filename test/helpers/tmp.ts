/**
 * A fresh temporary directory per test, removed when the test ends.
 * Set KEEP_TEST_TMP=1 to keep them for a post-mortem.
 */
import { chmod, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** What `tempDir` needs of node:test's TestContext (or a suite's). */
export interface AfterHook {
  after(fn: () => unknown): void;
}

export interface TempDir {
  path: string;
  cleanup(): Promise<void>;
}

export async function createTempDir(prefix = 'egginst-test-'): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  return { path, cleanup: () => (process.env.KEEP_TEST_TMP ? Promise.resolve() : removeTree(path)) };
}

/** A temporary directory removed after the test `t`. */
export async function tempDir(t: AfterHook, prefix = 'egginst-test-'): Promise<string> {
  const dir = await createTempDir(prefix);
  t.after(() => dir.cleanup());
  return dir.path;
}

/** rm -rf, also through directories a test made read-only. */
async function removeTree(path: string): Promise<void> {
  try {
    await rm(path, { recursive: true, force: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EACCES' && code !== 'EPERM') throw e;
    await makeWritable(path);
    await rm(path, { recursive: true, force: true });
  }
}

async function makeWritable(dir: string): Promise<void> {
  await chmod(dir, 0o700);
  for (const d of await readdir(dir, { withFileTypes: true })) {
    if (d.isDirectory()) await makeWritable(join(dir, d.name));
  }
}
