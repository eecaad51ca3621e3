/**
 * `enpkg config`: the effective configuration (file, command line and environment applied), secrets
 * masked.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { configToJson } from '../config.js';
import { ErrorCodes, PkgError } from '../errors.js';
import { addConfigOptions, type CliContext, type ConfigOptions, configLoadOptions, nonEmpty, promptLine, run } from './common.js';

export const CONFIG_HELP = `
Configuration file (YAML), the first found of: --config FILE, $ENPKG_CONFIG,
<prefix>/.enpkg/config.yaml, $XDG_CONFIG_HOME/enpkg/config.yaml (~/.config/enpkg/config.yaml).

  prefix: /opt/acme            where packages are installed (--prefix and $ENPKG_PREFIX win)
  python: "3.11"               offer only packages for this Python (X.Y) or for none (default:
                               the X.Y of python_executable or of the prefix's own bin/python)
  python_executable: /opt/acme/bin/python   the Python for scripts and shebangs (--python wins)
  cache_dir: ~/.cache/enpkg    index cache (default: $XDG_CACHE_HOME/enpkg)
  parallel_downloads: 4        1 to 64
  script_timeout: 300          seconds before a package script is killed
  store: true                  install from the package store of extracted eggs in cache_dir
                               (false: every install inflates its egg again)
  link_mode: auto              how files come from the store: clone, hardlink, copy or auto
                               (clone where the filesystem can, else hardlink, else copy;
                               default: $EGGINST_LINK_MODE, else auto)
  autoupdate: false            let enpkg update itself
  network:
    connect_timeout: 10        seconds
    idle_timeout: 30           seconds without data before a download is abandoned
    timeout: 300               seconds for one file, retries included
    retries: 3                 after connection errors, timeouts and 5xx (exponential back-off)
    retry_delay: 0.5           seconds before the first retry
    ca_file: /etc/acme-ca.pem  CA certificates trusted besides the system's
    max_index_size: 256 MiB    largest index accepted (compressed or not)
    proxy: http://proxy:3128   or {url: ..., user: NAME, password: {env: VAR}} (default: $HTTPS_PROXY)
    verify_ssl: true           false: certificates are not verified (as -k; warned about)
  auth: {credentials: {file: credentials}}   for every http(s) repository without its own auth
  repositories:                tried for packages in this order
    - https://eggs.example.com/free/          a URL or a directory
    - url: https://eggs.example.com/acme/     or path: /srv/eggs (relative: to this file)
      name: acme
      mirrors: [https://mirror.example.org/acme/]
      keys: ["<base64 Ed25519 public key>"]   a valid signature is then required
      insecure: false                         true allows plain http://
      auth:
        token: {env: ACME_TOKEN}              or {file: ~/.acme-token}
        # or: user: alice (or {env: ...}), password: {env: ACME_PASSWORD} (or {file: ...})

Enstaller's .enstaller4rc (<prefix>/.enstaller4rc, then ~/.enstaller4rc, read after the files above)
and Enstaller's YAML are read too (docs/enstaller.md); --import-enstaller writes them as this format.

With --json: {"ok": true, "config": {...the keys above..., "file", "format", "prefix_source"}}.`;

interface ConfigCmdOptions extends ConfigOptions {
  addUrl?: string;
  userpass?: boolean;
  importEnstaller?: boolean;
}

export function registerConfig(program: Command, ctx: CliContext): void {
  const cmd = program
    .command('config')
    .description('show the effective configuration (secrets masked), or change it (--add-url, --userpass, --import-enstaller)')
    .option('--add-url <url>', 'append a repository to the configuration file in use (created when there is none)', nonEmpty('--add-url'))
    .option('--userpass', 'ask for a user name and password; store them in a mode-0600 credentials file the configuration names')
    .option('--import-enstaller', "write the Enstaller configuration in use (.enstaller4rc, Enstaller's YAML) as ours")
    .addHelpText('after', CONFIG_HELP);
  addConfigOptions(cmd, { offline: false }).action(async (opts: ConfigCmdOptions) => {
    await run(ctx, opts, async (scope) => {
      const chosen = [opts.addUrl !== undefined, opts.userpass, opts.importEnstaller].filter(Boolean).length;
      if (chosen > 1) throw new PkgError(ErrorCodes.USAGE, 'give one of --add-url, --userpass and --import-enstaller');
      if (chosen === 0) {
        const shown = configToJson(scope.config());
        if (opts.json) ctx.o.json({ ok: true, config: shown });
        else ctx.o.out(stringify(shown, { lineWidth: 0 }));
        return;
      }
      const edit = await import('../config-write.js');
      const load = configLoadOptions(opts);
      let r: Awaited<ReturnType<typeof edit.addRepositoryUrl>>;
      if (opts.addUrl !== undefined) r = edit.addRepositoryUrl(opts.addUrl, load);
      else if (opts.importEnstaller) r = edit.importEnstallerConfig(load);
      else {
        const user = await promptLine(ctx, 'User name: ', false);
        const password = await promptLine(ctx, 'Password: ', true);
        r = edit.storeCredentials(user, password, load);
      }
      if (opts.json) ctx.o.json({ ok: true, file: r.file, created: r.created, secretFiles: r.secretFiles });
      else if (!opts.quiet) {
        ctx.o.out(`${r.created ? 'Created' : 'Updated'} ${r.file}\n${r.secretFiles.map((f) => `Wrote ${f} (mode 0600)\n`).join('')}`);
      }
    });
  });
}
