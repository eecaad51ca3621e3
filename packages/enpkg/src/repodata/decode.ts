/**
 * Index bytes to a validated index: decompress (zstd, capped) and parse. The bytes' signature is
 * checked before this (repo/verify.ts); serial and expiry after.
 *
 * One JSON.parse of the whole document, then one validating pass that turns each parsed entry into
 * an IndexEntry in place. (Parsing entry by entry as the bytes are decompressed was tried: slower,
 * and no lower peak memory, since the entries themselves dominate.)
 */
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';
import type { RepoIndex } from '../repo/types.js';
import { parseIndexDocument, parseJson, type ParseIndexOptions } from './parse.js';
import { decompressIndex } from './zstd.js';

export interface DecodeIndexOptions extends ParseIndexOptions {
  /** Largest decompressed (or legacy JSON) size accepted. */
  readonly maxSize: number;
}

export function decodeIndex(bytes: Buffer, opts: DecodeIndexOptions): RepoIndex {
  let json: Buffer | null;
  if (opts.format === 'zst') {
    json = decompressIndex(bytes, { maxSize: opts.maxSize, source: opts.source });
  } else {
    if (bytes.length > opts.maxSize) {
      throw new PkgError(RepoErrorCodes.INDEX_TOO_LARGE, `${opts.source}: ${bytes.length} bytes, more than the ${opts.maxSize} allowed`, {
        hint: 'raise network.max_index_size in the configuration if the repository really is that large',
        details: { source: opts.source, limit: opts.maxSize },
      });
    }
    json = bytes;
  }
  let text: string | null = json.toString('utf8');
  // Let the decompressed bytes, then the text, be collected as soon as they are parsed: peak memory.
  json = null;
  const doc = parseJson(text, opts.source);
  text = null;
  return parseIndexDocument(doc, opts);
}
