/**
 * One measured load of a large index, in its own process (so that its peak RSS is its own):
 *
 *   node index-load.js raw FILE            zstd -d (the CLI) + JSON.parse: the baseline
 *   node index-load.js load FILE PUBKEY    enpkg: read, verify the signature, decompress, parse and
 *                                          validate into IndexEntry[] (the resolver's PackageInfo[])
 *   node index-load.js pipeline CONFIG     enpkg's whole loadRepositories (cache and serial included)
 *
 * Prints one JSON line: {"seconds", "rssMiB" (peak), "startMiB" (RSS before the load: Node and the
 * modules), "entries"}.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { decodeIndex, loadConfig, loadRepositories, parsePublicKey, parseSignature, PkgError, verifySignature } from 'enpkg';

const [mode, file, extra] = process.argv.slice(2) as [string, string, string | undefined];
let keep: unknown;
const startMiB = process.memoryUsage().rss / 2 ** 20;
const t0 = process.hrtime.bigint();
let entries = 0;
if (mode === 'raw') {
  const json = execFileSync('zstd', ['-d', '-c', '-q', file], { maxBuffer: 2 ** 31 - 1 });
  const doc = JSON.parse(json.toString('utf8')) as { packages: Record<string, unknown> };
  entries = Object.keys(doc.packages).length;
  keep = doc;
} else if (mode === 'load') {
  const bytes = readFileSync(file);
  const sig = parseSignature(readFileSync(`${file}.sig`));
  if (!sig || !verifySignature(bytes, sig, [parsePublicKey(extra!, 'bench')]))
    throw new PkgError('INDEX_SIGNATURE_INVALID', 'bench: bad signature');
  const index = decodeIndex(bytes, { format: 'zst', source: file, repository: 'bench', maxSize: 2 ** 30 });
  entries = index.entries.length;
  keep = index;
} else if (mode === 'pipeline') {
  const [repo] = await loadRepositories(loadConfig({ configFile: file }));
  entries = repo!.index.entries.length;
  keep = repo;
} else {
  throw new Error(`unknown mode ${mode}`);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const rssMiB = process.resourceUsage().maxRSS / 1024;
process.stdout.write(`${JSON.stringify({ seconds, rssMiB, startMiB, entries, kept: keep !== undefined })}\n`);
