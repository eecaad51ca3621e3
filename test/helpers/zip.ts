/**
 * Read an archive with yauzl, the way egginst does, for assertions about built fixtures.
 */
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';

export interface ZipListingEntry {
  name: string;
  /** Unix st_mode from the external attributes. */
  mode: number;
  isDirectory: boolean;
  isSymlink: boolean;
  size: number;
  method: number;
  /** The entry's content (for a symlink entry: its target). */
  content: Buffer;
}

/** Every entry in central-directory order, content read and CRC-checked. */
export async function listZip(path: string): Promise<ZipListingEntry[]> {
  const zip = await yauzl.openPromise(path, { lazyEntries: true, strictFileNames: true, validateEntrySizes: true });
  const entries: ZipListingEntry[] = [];
  try {
    for (;;) {
      const entry = await nextEntry(zip);
      if (!entry) break;
      const mode = entry.externalFileAttributes >>> 16;
      const content = entry.fileName.endsWith('/') ? Buffer.alloc(0) : await readEntry(zip, entry);
      if (crc32(content) >>> 0 !== entry.crc32) throw new Error(`${path}: CRC mismatch in ${entry.fileName}`);
      entries.push({
        name: entry.fileName,
        mode,
        isDirectory: entry.fileName.endsWith('/'),
        isSymlink: (mode & 0o170000) === 0o120000,
        size: entry.uncompressedSize,
        method: entry.compressionMethod,
        content,
      });
    }
  } finally {
    zip.close();
  }
  return entries;
}

function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | undefined> {
  return new Promise((resolve, reject) => {
    const cleanup = () => zip.removeListener('entry', onEntry).removeListener('end', onEnd).removeListener('error', onError);
    const onEntry = (e: yauzl.Entry) => (cleanup(), resolve(e));
    const onEnd = () => (cleanup(), resolve(undefined));
    const onError = (e: Error) => (cleanup(), reject(e));
    zip.on('entry', onEntry).on('end', onEnd).on('error', onError);
    zip.readEntry();
  });
}

async function readEntry(zip: yauzl.ZipFile, entry: yauzl.Entry): Promise<Buffer> {
  const stream = await zip.openReadStreamPromise(entry);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
