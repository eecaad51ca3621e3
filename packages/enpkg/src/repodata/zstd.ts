/**
 * zstd for the index, with a hard cap on the decompressed size (zstd-napi's own `decompress` has no
 * allocation limit: a frame header may declare any size). Frame headers are read first: a declared
 * size over the cap is refused before anything is allocated; frames of unknown size are decompressed
 * in bounded chunks and refused as soon as they pass the cap.
 */
import { createRequire } from 'node:module';
import { compress } from 'zstd-napi';
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';

type Binding = typeof import('zstd-napi/binding.js');
const binding = createRequire(import.meta.url)('zstd-napi/binding') as Binding;

const CHUNK = 1 << 20;
let dctx: InstanceType<Binding['DCtx']> | null = null;

/** The level `enpkg repo index` writes with: fast to write, and decompression speed hardly depends on it. */
export const INDEX_COMPRESSION_LEVEL = 9;

export function compressIndex(data: Uint8Array, level = INDEX_COMPRESSION_LEVEL): Buffer {
  return compress(data, { compressionLevel: level });
}

function corrupt(source: string, why: string, cause?: unknown): PkgError {
  return new PkgError(RepoErrorCodes.INDEX_CORRUPT, `${source}: not a valid zstd stream (${why})`, {
    hint: 'the index is damaged or truncated; the publisher should run "enpkg repo index" again',
    cause,
    details: { source },
  });
}

function tooLarge(source: string, size: number | string, max: number): PkgError {
  return new PkgError(
    RepoErrorCodes.INDEX_TOO_LARGE,
    `${source}: decompresses to ${size} bytes, more than the ${max} allowed (a zstd bomb, or a huge index)`,
    {
      hint: 'if the repository really is that large, raise network.max_index_size in the configuration',
      details: { source, limit: max },
    },
  );
}

/** Sum of the frames' declared content sizes, or null when a frame does not declare it. */
function declaredSize(data: Buffer, source: string): number | null {
  let total = 0;
  let rest = data;
  while (rest.length > 0) {
    let size: number | null;
    let frameLength: number;
    try {
      size = binding.getFrameContentSize(rest);
      frameLength = binding.findFrameCompressedSize(rest);
    } catch (e) {
      throw corrupt(source, (e as Error).message, e);
    }
    if (size === null) return null;
    total += size;
    rest = rest.subarray(frameLength);
  }
  return total;
}

/** Decompress a whole index; never allocates more than `maxSize` (plus one chunk). */
export function decompressIndex(data: Buffer, opts: { maxSize: number; source: string }): Buffer {
  const { maxSize, source } = opts;
  if (data.length === 0) throw corrupt(source, 'it is empty');
  dctx ??= new binding.DCtx();
  dctx.reset(binding.ResetDirective.sessionAndParameters);
  const declared = declaredSize(data, source);
  if (declared !== null) {
    if (declared > maxSize) throw tooLarge(source, declared, maxSize);
    const out = Buffer.allocUnsafe(declared);
    let n: number;
    try {
      n = dctx.decompress(out, data);
    } catch (e) {
      throw corrupt(source, (e as Error).message, e);
    }
    if (n !== declared) throw corrupt(source, `${n} bytes where the frame header declares ${declared}`);
    return out;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  let rest = data;
  let remaining = 1;
  while (rest.length > 0 || remaining > 0) {
    const chunk = Buffer.allocUnsafe(CHUNK);
    let produced: number;
    let consumed: number;
    try {
      [remaining, produced, consumed] = dctx.decompressStream(chunk, rest);
    } catch (e) {
      throw corrupt(source, (e as Error).message, e);
    }
    total += produced;
    if (total > maxSize) throw tooLarge(source, `more than ${maxSize}`, maxSize);
    if (produced > 0) chunks.push(chunk.subarray(0, produced));
    rest = rest.subarray(consumed);
    if (produced === 0 && consumed === 0) {
      // No progress: the input ended inside a frame.
      throw corrupt(source, 'it ends in the middle of a frame (truncated)');
    }
  }
  return Buffer.concat(chunks, total);
}
