/**
 * `enpkg repo index DIR` and `enpkg repo keygen KEYFILE`: publishing a repository.
 */
import { type Command, InvalidArgumentError } from 'commander';
import { ErrorCodes, PkgError } from '../errors.js';
import { writeKeyPair } from '../repodata/sign.js';
import { publishIndex, type PublishResult } from '../repodata/write.js';
import type { ShardedResult } from '../repodata/write-shards.js';
import { collecting } from '../ops/common.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { addOutputOptions, type CliContext, type ConfigOptions, run } from './common.js';

interface IndexOptions extends ConfigOptions {
  sign?: string;
  expires?: number;
  legacyJson?: boolean;
  name?: string;
  from?: string;
  shardGrace?: number;
}

function graceDays(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number of days >= 0');
  return n;
}

function days(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number of days');
  return n;
}

const INDEX_HELP = `
Writes DIR/index.json.zst from the eggs in DIR, and the sharded form of the same index beside it
(DIR/root.json.zst, signed as root.json.zst.sig, naming DIR/shards/<sha256>.json.zst: one shard per
package name; see docs/sharded-index.md). Eggs whose size and mtime are unchanged keep their entry
without being read, and names whose entries are unchanged keep their shard. An egg that fails
egginst's checks, or whose file name disagrees with its metadata, is left out and listed; the index
is still written and the exit status is 1.

With --from INDEX, both forms are built from an existing index file (ours, or Enstaller's
index.json) without reading any egg, streaming it: any size in bounded memory. A bad entry refuses
the whole file (exit status 1) and nothing is published.

With --json: {"ok", "dir", "indexFile", "signatureFile", "legacyFile", "repository", "serial",
"generated", "expires", "packages", "read", "reused", "removed", "refused": [{"file", "code",
"message"}], "sharded": {"rootFile", "signatureFile", "shards", "written", "kept", "retired",
"removed"}, "warnings"} (and "error" when eggs were refused); with --from: {"ok", "dir", "from",
"indexFile", "signatureFile", "repository", "serial", "generated", "expires", "packages",
"sharded", "warnings"}.`;

function printSharded(ctx: CliContext, s: ShardedResult): void {
  ctx.o.out(`  sharded: ${s.rootFile}, ${s.shards} shard${s.shards === 1 ? '' : 's'} (${s.written} written, ${s.kept} kept)`);
  ctx.o.out(`${s.retired || s.removed ? `; ${s.retired} retired, ${s.removed} removed after the grace period` : ''}\n`);
  if (s.signatureFile) ctx.o.out(`  signed: ${s.signatureFile}\n`);
}

function printResult(ctx: CliContext, r: PublishResult, quiet: boolean | undefined): void {
  if (!quiet) {
    ctx.o.out(
      `${r.indexFile}: ${r.packages} package${r.packages === 1 ? '' : 's'}, ` +
        `serial ${r.serial}${r.expires ? `, expires ${r.expires}` : ''}\n`,
    );
    ctx.o.out(`  read ${r.read} egg${r.read === 1 ? '' : 's'}, kept ${r.reused} unchanged, dropped ${r.removed}\n`);
    if (r.signatureFile) ctx.o.out(`  signed: ${r.signatureFile}\n`);
    if (r.legacyFile) ctx.o.out(`  legacy index: ${r.legacyFile}\n`);
    printSharded(ctx, r.sharded);
  }
  if (r.refused.length > 0) {
    ctx.o.err(`enpkg: ${r.refused.length} egg${r.refused.length === 1 ? ' was' : 's were'} left out:\n`);
    for (const f of r.refused) ctx.o.err(`  ${f.file}: ${f.message} [${f.code}]\n`);
  }
}

export function registerRepo(program: Command, ctx: CliContext): void {
  const repo = program.command('repo').description('publish a repository: build its index, make signing keys');

  const index = repo
    .command('index')
    .description('write DIR/index.json.zst from the eggs in DIR')
    .argument('<dir>', 'the repository directory')
    .option('--sign <keyfile>', 'sign the index with this private key (writes index.json.zst.sig)')
    .option('--expires <days>', 'clients refuse the index this many days after it is generated', days)
    .option('--legacy-json', "also write Enstaller's index.json")
    .option('--name <name>', 'the repository name written in the index (default: the previous one, else the directory name)')
    .option('--from <index>', "build both forms from this index file (ours, or Enstaller's index.json) instead of the eggs")
    .option('--shard-grace <days>', 'keep shards the new root no longer names this many days (default 2; 0: remove at once)', graceDays)
    .addHelpText('after', INDEX_HELP);
  addOutputOptions(index).action(async (dir: string, opts: IndexOptions) => {
    await run(ctx, opts, async (scope) => {
      const { reporter, warnings } = collecting(scope.reporter);
      const publish = {
        signKeyFile: opts.sign,
        expiresDays: opts.expires,
        legacyJson: opts.legacyJson,
        name: opts.name,
        shardGraceDays: opts.shardGrace,
        reporter: reporter,
      };
      if (opts.from !== undefined) {
        if (opts.legacyJson)
          throw new PkgError(ErrorCodes.USAGE, '--legacy-json cannot be combined with --from', {
            hint: 'run without --from to write index.json from the eggs',
          });
        const { publishFromIndex } = await import('../repodata/from-index.js');
        const r = await publishFromIndex(dir, opts.from, publish);
        if (opts.json) ctx.o.json({ ok: true, ...r, warnings });
        else if (!opts.quiet) {
          const expires = r.expires ? `, expires ${r.expires}` : '';
          ctx.o.out(`${r.indexFile}: ${r.packages} package${r.packages === 1 ? '' : 's'} from ${r.from}, serial ${r.serial}${expires}\n`);
          if (r.signatureFile) ctx.o.out(`  signed: ${r.signatureFile}\n`);
          printSharded(ctx, r.sharded);
        }
        return;
      }
      const r = await publishIndex(dir, publish);
      const failed = r.refused.length > 0;
      if (opts.json) {
        const error = failed
          ? new PkgError(RepoErrorCodes.INDEX_EGGS_REFUSED, `${r.refused.length} egg(s) in ${r.dir} were left out of the index`, {
              hint: 'fix or remove them, then run "enpkg repo index" again',
            }).toJSON()
          : undefined;
        ctx.o.json({ ok: !failed, ...r, warnings, ...(error ? { error } : {}) });
      } else {
        printResult(ctx, r, opts.quiet);
      }
      if (failed) ctx.exitCode = 1;
    });
  });

  const keygen = repo
    .command('keygen')
    .description("write an Ed25519 key pair: KEYFILE (private, mode 0600) and KEYFILE.pub (the public key for the clients' configuration)")
    .argument('<keyfile>', 'where to write the private key')
    .option('--force', 'replace existing key files')
    .addHelpText('after', '\nWith --json: {"ok": true, "privateKeyFile", "publicKeyFile", "publicKey"}.');
  addOutputOptions(keygen).action(async (file: string, opts: ConfigOptions & { force?: boolean }) => {
    await run(ctx, opts, () => {
      const r = writeKeyPair(file, { force: opts.force === true });
      if (opts.json) {
        ctx.o.json({ ok: true, ...r });
        return;
      }
      ctx.o.out(`private key: ${r.privateKeyFile} (keep it secret; sign with "enpkg repo index --sign ${r.privateKeyFile} DIR")\n`);
      ctx.o.out(`public key:  ${r.publicKeyFile}\n\nClients trust it with, in their configuration:\n`);
      ctx.o.out(`  repositories:\n    - url: https://...\n      keys: ["${r.publicKey}"]\n`);
    });
  });
}
