/**
 * The prefix lock: a Linux abstract-namespace Unix socket named after the prefix's real path. The
 * kernel releases it the moment its holder dies, however it dies, so there is no stale-lock cleanup
 * and no race. A second process connects to it and learns the holder's pid and command.
 */
import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import net from 'node:net';
import { ErrorCodes, PkgError } from './errors.js';

export interface PrefixLock {
  prefix: string;
  release(): Promise<void>;
}

export interface LockOptions {
  /** Wait for the holder to finish instead of failing. */
  wait?: boolean;
  /** Called once when waiting starts, with the holder's description. */
  onWait?: (holder: string) => void;
  /** What this process is doing, told to whoever waits for it. */
  command?: string;
}

function socketName(prefix: string): string {
  const real = realpathSync(prefix);
  return `\0egginst-lock-${createHash('sha256').update(real).digest('hex').slice(0, 40)}`;
}

function tryListen(name: string, banner: string): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((sock) => {
      sock.on('error', () => {});
      sock.end(banner);
    });
    server.once('error', (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? resolve(null) : reject(e)));
    server.listen({ path: name, exclusive: true }, () => {
      server.unref();
      resolve(server);
    });
  });
}

/** Ask the holder who it is; resolves when the holder's connection closes if `untilGone`. */
function askHolder(name: string, untilGone: boolean): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const sock = net.connect({ path: name });
    sock.setEncoding('utf8');
    sock.on('data', (d) => (text += d));
    sock.on('error', () => resolve(text || 'another process'));
    sock.on('close', () => resolve(text || 'another process'));
    if (!untilGone) sock.on('end', () => resolve(text || 'another process'));
  });
}

export async function lockPrefix(prefix: string, opts: LockOptions = {}): Promise<PrefixLock> {
  const name = socketName(prefix);
  const banner = `pid ${process.pid}${opts.command ? ` (${opts.command})` : ''}`;
  let told = false;
  for (let attempt = 0; ; attempt++) {
    const server = await tryListen(name, banner);
    if (server) {
      return {
        prefix,
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    const holder = await askHolder(name, false);
    if (!opts.wait) {
      throw new PkgError(ErrorCodes.PREFIX_LOCKED, `the prefix ${prefix} is locked by ${holder}`, {
        hint: 'wait for it to finish, or run again with --wait',
        details: { prefix, holder },
      });
    }
    if (!told) {
      opts.onWait?.(holder);
      told = true;
    }
    await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** Math.min(attempt, 4), 500)));
  }
}
