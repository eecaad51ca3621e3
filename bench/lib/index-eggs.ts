/** Many small, valid eggs (metadata only) for timing `enpkg repo index` on a large repository. */
import { createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

const MTIME = new Date(2020, 0, 1, 12, 0, 0);

export async function writeSmallEgg(dir: string, name: string, version: string, build: number, depends: string[]): Promise<string> {
  const file = join(dir, `${name}-${version}-${build}.egg`);
  const zip = new yazl.ZipFile();
  const spec =
    `metadata_version = '1.1'\nname = '${name}'\nversion = '${version}'\nbuild = ${build}\n\n` +
    `arch = 'amd64'\nplatform = 'linux2'\nosdist = None\npython = '2.7'\n` +
    `packages = [\n${depends.map((d) => `  '${d}',\n`).join('')}]\n`;
  zip.addBuffer(Buffer.from(spec), 'EGG-INFO/spec/depend', { mtime: MTIME });
  zip.addBuffer(Buffer.from(`the ${name} package\n`), 'EGG-INFO/spec/summary', { mtime: MTIME });
  zip.addBuffer(Buffer.from(`# ${name}\n`), `${name}.py`, { mtime: MTIME });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(file));
  return file;
}

/** `count` eggs named egg<i>-1.0-1.egg, each depending on an earlier one. */
export async function writeSmallEggs(dir: string, count: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      await writeSmallEgg(dir, `egg${i}`, '1.0', 1, i > 0 ? [`egg${Math.floor(i / 2)} >= 1.0`] : []);
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
