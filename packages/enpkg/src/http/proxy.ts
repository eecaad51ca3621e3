/**
 * The proxy: `--proxy URL`, the configuration's `network.proxy` (Enstaller's `proxy`), else
 * HTTPS_PROXY / HTTP_PROXY / NO_PROXY. Every form is checked here, and a malformed one is an error
 * naming where it came from (the option, the key, the variable), never a crash; credentials are
 * never shown.
 */
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { readSecret } from '../repo/auth.js';
import type { ProxyConfig, SecretSource } from '../repo/types.js';

/**
 * A proxy as written: `http://host:3128`, `https://host`, or Enstaller's `host:3128` and
 * `user:password@host:3128` (http). Credentials in it are kept as secrets `from` where it came from.
 */
export function parseProxy(text: string, origin: string): ProxyConfig {
  const bad = (why: string): never => {
    throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `${origin}: the proxy is not valid: ${why}`, {
      hint: 'write the proxy as http://host:port (or https://host:port); credentials from the environment or a file',
      details: { origin },
    });
  };
  const trimmed = text.trim();
  if (trimmed === '') bad('it is empty');
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `http://${trimmed}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    return bad('it is not a URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') bad(`the scheme ${url.protocol.slice(0, -1)} is not http or https`);
  if (url.hostname === '') bad('it names no host');
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) bad('a proxy is a host and port, with no path');
  const secret = (v: string): SecretSource => ({ value: decodeURIComponent(v), from: origin });
  const user = url.username ? decodeURIComponent(url.username) : null;
  const password = url.password ? secret(url.password) : null;
  url.username = '';
  url.password = '';
  return { url: url.toString(), origin, user, password };
}

/** The proxy of the environment (HTTPS_PROXY, HTTP_PROXY; lower case too), each checked. */
export function environmentProxies(env: NodeJS.ProcessEnv): {
  https: ProxyConfig | null;
  http: ProxyConfig | null;
  noProxy: string | null;
} {
  const pick = (names: readonly string[]): ProxyConfig | null => {
    for (const name of names) {
      const v = env[name];
      if (v !== undefined && v !== '') return parseProxy(v, `the environment variable ${name}`);
    }
    return null;
  };
  return {
    https: pick(['HTTPS_PROXY', 'https_proxy']),
    http: pick(['HTTP_PROXY', 'http_proxy']),
    noProxy: env.NO_PROXY || env.no_proxy || null,
  };
}

/** The proxy URL for the proxy transport, with its credentials (read now from their variable or file), sent as Proxy-Authorization. */
export function proxyUrlWithCredentials(p: ProxyConfig, env: NodeJS.ProcessEnv): string {
  if (p.user === null && p.password === null) return p.url;
  const who = { name: `the proxy ${p.url}`, origin: p.origin };
  const url = new URL(p.url);
  url.username = encodeURIComponent(p.user === null ? '' : typeof p.user === 'string' ? p.user : readSecret(p.user, 'user name', who, env));
  if (p.password !== null) url.password = encodeURIComponent(readSecret(p.password, 'password', who, env));
  return url.toString();
}
