/**
 * `enpkg cache clean [--all]`: empty the download cache (eggs and leftovers of interrupted
 * downloads); with --all, the cached repository indexes too (the accepted serials stay).
 */
import type { Command } from 'commander';
import { cleanCache } from '../fetch/clean.js';
import { cleanStore } from '../store.js';
import { addOutputOptions, type CliContext, type ConfigOptions, configFrom, nonEmpty, run } from './common.js';
import { formatSize } from './render.js';

interface CleanCliOptions extends ConfigOptions {
  all?: boolean;
}

const CLEAN_HELP = `
Removes every cached egg (<cache_dir>/eggs) and the .partial files of interrupted downloads; a
download still running in another enpkg is left alone. Entries of the package store
(<cache_dir>/store) that no prefix uses any more go too (with --all, every entry), and the store's spare
directories (kept for transactions to reuse). Installed packages are not affected; "enpkg
revert" to a state whose eggs were removed downloads them again. With --all, the cached indexes
(<cache_dir>/index) go too, except the serials already accepted (rollback protection).

With --json: {"ok": true, "removed": N, "bytes": B, "store": {"removed": N, "kept": K}}.`;

export function registerCache(program: Command, ctx: CliContext): void {
  const cache = program.command('cache').description('manage the download cache');
  const clean = cache
    .command('clean')
    .description('remove cached eggs and partial downloads (--all: the cached indexes too)')
    .option('--all', 'also remove the cached repository indexes')
    .option('--config <file>', 'the configuration file (it names cache_dir)', nonEmpty('--config'))
    .option('-p, --prefix <dir>', 'the prefix (its configuration file may name cache_dir)', nonEmpty('--prefix'))
    .addHelpText('after', CLEAN_HELP);
  addOutputOptions(clean).action(async (opts: CleanCliOptions) => {
    await run(ctx, opts, async () => {
      const config = configFrom(opts);
      const r = await cleanCache(config.cacheDir, { all: opts.all === true });
      const store = cleanStore(config.cacheDir, { all: opts.all === true });
      if (opts.json) {
        ctx.o.json({ ok: true, removed: r.removed, bytes: r.bytes, store: { removed: store.entries, kept: store.kept } });
        return;
      }
      if (opts.quiet) return;
      const what = [
        `${r.eggs} egg${r.eggs === 1 ? '' : 's'}`,
        `${r.partials} partial download${r.partials === 1 ? '' : 's'}`,
        `${store.entries} store entr${store.entries === 1 ? 'y' : 'ies'} (${store.kept} still in use kept)`,
      ];
      if (opts.all) what.push(`${r.indexFiles} index file${r.indexFiles === 1 ? '' : 's'}`);
      ctx.o.out(`removed ${what.join(', ')} from ${config.cacheDir} (${formatSize(r.bytes)} freed)\n`);
    });
  });
}
