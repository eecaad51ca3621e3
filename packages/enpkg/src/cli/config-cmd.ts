/**
 * `enpkg config`: the effective configuration (file, command line and environment applied), secrets
 * masked.
 */
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { configToJson } from '../config.js';
import { addConfigOptions, type CliContext, type ConfigOptions, configFrom, run } from './common.js';

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
  autoupdate: false            let enpkg update itself
  network:
    connect_timeout: 10        seconds
    idle_timeout: 30           seconds without data before a download is abandoned
    timeout: 300               seconds for one file, retries included
    retries: 3                 after connection errors, timeouts and 5xx (exponential back-off)
    retry_delay: 0.5           seconds before the first retry
    ca_file: /etc/acme-ca.pem  CA certificates trusted besides the system's
    max_index_size: 256 MiB    largest index accepted (compressed or not)
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

With --json: {"ok": true, "config": {...the keys above..., "file", "prefix_source"}}.`;

export function registerConfig(program: Command, ctx: CliContext): void {
  const cmd = program.command('config').description('show the effective configuration (secrets masked)').addHelpText('after', CONFIG_HELP);
  addConfigOptions(cmd, { offline: false }).action(async (opts: ConfigOptions) => {
    await run(ctx, opts, () => {
      const shown = configToJson(configFrom(opts));
      if (opts.json) ctx.o.json({ ok: true, config: shown });
      else ctx.o.out(stringify(shown, { lineWidth: 0 }));
    });
  });
}
