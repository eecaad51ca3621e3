/**
 * One GET up to the response's headers, over one of two transports with the same contract:
 *
 * * Node's own `http`/`https` with a keep-alive agent, for direct connections (no proxy applies):
 *   already in the binary, and light - 394 shard fetches over 32 connections peak at some 15 MiB
 *   over a bare process, against some 60 MiB through undici (its module graph, the wasm HTTP parser,
 *   and its per-request objects);
 * * undici's EnvHttpProxyAgent when a proxy is configured (`network.proxy`, HTTPS_PROXY, HTTP_PROXY):
 *   CONNECT tunnels, NO_PROXY and proxy credentials are a library's job, not ours (loaded only then).
 *
 * Both give the connect timeout (TCP and TLS handshake), the idle timeout (nothing received for that
 * long, before or during the body) and the caller's signal; their failures carry the codes
 * `classifyNetworkError` reads.
 */
import type { IncomingMessage } from 'node:http';
import type { Readable } from 'node:stream';
import type { SecureContext } from 'node:tls';

/** A response whose body is left to the caller (read it, or `discard` it). */
export interface Exchange {
  readonly statusCode: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: Readable;
}

export interface Transport {
  send(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<Exchange>;
  close(): Promise<void>;
}

export interface TransportOptions {
  readonly connectTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** The CA list as one context (absent: Node's default store). */
  readonly secureContext: SecureContext | null;
  readonly verifyTls: boolean;
}

/** The codes of the node transport's timeouts (undici's own: UND_ERR_CONNECT_TIMEOUT, UND_ERR_*_TIMEOUT). */
export const CONNECT_TIMEOUT = 'ENPKG_CONNECT_TIMEOUT';
export const IDLE_TIMEOUT = 'ENPKG_IDLE_TIMEOUT';

function coded(code: string, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** Direct connections through Node's http/https, kept alive between requests. */
export async function nodeTransport(o: TransportOptions): Promise<Transport> {
  const [http, https] = await Promise.all([import('node:http'), import('node:https')]);
  const agents = {
    'https:': new https.Agent({
      keepAlive: true,
      scheduling: 'lifo',
      ...(o.secureContext ? { secureContext: o.secureContext } : {}),
      ...(o.verifyTls ? {} : { rejectUnauthorized: false }),
    }),
    'http:': new http.Agent({ keepAlive: true, scheduling: 'lifo' }),
  };
  return {
    send(url, headers, signal) {
      return new Promise<Exchange>((resolve, reject) => {
        const secure = url.protocol === 'https:';
        const agent = secure ? agents['https:'] : agents['http:'];
        const req = (secure ? https : http).request(url, { method: 'GET', headers, agent, signal });
        let res: IncomingMessage | null = null;
        let connectTimer: NodeJS.Timeout | null = null;
        const idle = (): void => {
          // Nothing came for idleTimeoutMs: waiting for the headers, or in the middle of the body.
          const e = coded(IDLE_TIMEOUT, `nothing received for ${o.idleTimeoutMs} ms`);
          if (res) res.destroy(e);
          req.destroy(e);
        };
        req.on('socket', (socket) => {
          if (req.reusedSocket) {
            req.setTimeout(o.idleTimeoutMs, idle);
            return;
          }
          connectTimer = setTimeout(
            () => req.destroy(coded(CONNECT_TIMEOUT, `no connection within ${o.connectTimeoutMs} ms`)),
            o.connectTimeoutMs,
          );
          socket.once(secure ? 'secureConnect' : 'connect', () => {
            if (connectTimer) clearTimeout(connectTimer);
            connectTimer = null;
            req.setTimeout(o.idleTimeoutMs, idle);
          });
        });
        req.on('error', (e) => {
          if (connectTimer) clearTimeout(connectTimer);
          if (res === null) reject(e);
        });
        req.on('response', (r) => {
          res = r;
          resolve({ statusCode: r.statusCode ?? 0, headers: r.headers, body: r });
        });
        req.end();
      });
    },
    async close() {
      agents['https:'].destroy();
      agents['http:'].destroy();
    },
  };
}

export interface ProxyTransportOptions extends TransportOptions {
  /** Proxy URLs with their credentials (proxy.ts). */
  readonly httpsProxy: string | null;
  readonly httpProxy: string | null;
  readonly noProxy: string | null;
}

/** Through the configured proxy: undici's EnvHttpProxyAgent (NO_PROXY honoured). */
export async function proxyTransport(o: ProxyTransportOptions): Promise<Transport> {
  const undici = await import('undici');
  const tls = o.secureContext ? { secureContext: o.secureContext } : {};
  const verify = o.verifyTls ? {} : { rejectUnauthorized: false };
  const dispatcher = new undici.EnvHttpProxyAgent({
    connect: { timeout: o.connectTimeoutMs, ...tls, ...verify },
    requestTls: { timeout: o.connectTimeoutMs, ...tls, ...verify },
    proxyTls: { timeout: o.connectTimeoutMs, ...verify },
    headersTimeout: o.idleTimeoutMs,
    bodyTimeout: o.idleTimeoutMs,
    ...(o.httpsProxy ? { httpsProxy: o.httpsProxy } : {}),
    ...(o.httpProxy ? { httpProxy: o.httpProxy } : {}),
    ...(o.noProxy ? { noProxy: o.noProxy } : {}),
  });
  return {
    async send(url, headers, signal) {
      const res = await undici.request(url, {
        method: 'GET',
        headers,
        dispatcher,
        signal,
        headersTimeout: o.idleTimeoutMs,
        bodyTimeout: o.idleTimeoutMs,
      });
      return { statusCode: res.statusCode, headers: res.headers, body: res.body };
    },
    close: () => dispatcher.close(),
  };
}
