/**
 * GET over HTTPS the careful way: conditional requests, redirects followed by hand (at most 5, never
 * to `file:` and never to plain http unless the repository is insecure, credentials dropped when the
 * origin changes), retries with exponential back-off on connection errors, timeouts and 5xx,
 * connect / idle / overall timeouts, a size cap, proxies from HTTPS_PROXY / NO_PROXY (undici's
 * EnvHttpProxyAgent: Node 20's fetch reads neither). URLs are redacted in every message.
 */
import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { redactUrl } from '../repo/location.js';
import type { NetworkSettings, RepoReporter } from '../repo/types.js';
import { classifyNetworkError, httpStatusError } from './errors.js';

export const MAX_REDIRECTS = 5;

export interface GetRequest {
  readonly url: string;
  /** Sent only to the origin of `url`: dropped as soon as a redirect leaves it. */
  readonly authorization: string | null;
  /** The repository is marked insecure: plain http allowed (also as a redirect target). */
  readonly allowHttp: boolean;
  readonly etag?: string | null;
  readonly lastModified?: string | null;
  readonly maxBytes: number;
  /** What is being fetched, for messages: `the index of acme`. */
  readonly what: string;
}

export type GetResult =
  | { readonly status: 'ok'; readonly body: Buffer; readonly etag: string | null; readonly lastModified: string | null; readonly url: string }
  | { readonly status: 'not-modified'; readonly url: string }
  | { readonly status: 'not-found'; readonly url: string };

export interface HttpClient {
  get(req: GetRequest): Promise<GetResult>;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  readonly settings: NetworkSettings;
  readonly reporter?: RepoReporter;
  readonly env?: NodeJS.ProcessEnv;
  /** Back-off sleeps (tests make them instant). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Trusted CAs: the system's (and NODE_EXTRA_CA_CERTS, which Node adds itself) plus `network.ca_file`. */
function caList(settings: NetworkSettings, env: NodeJS.ProcessEnv): string[] | undefined {
  if (!settings.caFile) return undefined;
  const read = (file: string, key: string): string => {
    try {
      return readFileSync(file, 'utf8');
    } catch (e) {
      throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `cannot read the CA certificates in ${file} (${key}): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, {
        hint: 'give a readable PEM file',
        details: { file },
      });
    }
  };
  const list = [...rootCertificates, read(settings.caFile, 'network.ca_file')];
  // Giving `ca` replaces Node's default store, extra certificates included: add them back.
  if (env.NODE_EXTRA_CA_CERTS) list.push(read(env.NODE_EXTRA_CA_CERTS, 'NODE_EXTRA_CA_CERTS'));
  return list;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = headers[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Drop a response body we do not read (its errors, such as the abort itself, are not ours). */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  body.destroy();
}

/** One attempt: follows redirects, reads the body under the cap. Throws PkgError with `retryable` in details. */
type Undici = typeof import('undici');

/** undici is loaded on the first request: commands that never touch the network do not pay for it. */
let undici: Promise<Undici> | null = null;
const loadUndici = (): Promise<Undici> => (undici ??= import('undici'));

async function attempt(dispatcher: Dispatcher, req: GetRequest, settings: NetworkSettings, signal: AbortSignal): Promise<GetResult> {
  let url = new URL(req.url);
  const origin = url.origin;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'enpkg', accept: '*/*' };
    if (req.authorization && url.origin === origin) headers.authorization = req.authorization;
    if (req.etag) headers['if-none-match'] = req.etag;
    if (req.lastModified) headers['if-modified-since'] = req.lastModified;
    let res: Dispatcher.ResponseData;
    try {
      res = await (await loadUndici()).request(url, { method: 'GET', headers, dispatcher, signal, headersTimeout: settings.idleTimeoutMs, bodyTimeout: settings.idleTimeoutMs });
    } catch (e) {
      throw classifyNetworkError(e, url, req.what, settings, signal);
    }
    const status = res.statusCode;
    if (REDIRECTS.has(status)) {
      discard(res.body);
      const location = header(res.headers, 'location');
      const refuse = (why: string): never => {
        throw new PkgError(RepoErrorCodes.REPO_REDIRECT_REFUSED, `${req.what}: ${redactUrl(url)} redirects ${why}`, {
          hint: 'fix the server, or configure the repository with the URL it really lives at',
          details: { url: redactUrl(url), status },
        });
      };
      if (!location) refuse(`(${status}) without a Location header`);
      if (hop >= MAX_REDIRECTS) refuse(`more than ${MAX_REDIRECTS} times`);
      let next: URL;
      try {
        next = new URL(location!, url);
      } catch {
        return refuse('to an invalid URL');
      }
      if (next.protocol === 'http:' && !req.allowHttp) refuse(`to plain http (${redactUrl(next)}), which is refused`);
      if (next.protocol !== 'https:' && next.protocol !== 'http:') refuse(`to ${next.protocol} (${redactUrl(next)}), which is refused`);
      url = next;
      continue;
    }
    if (status === 304) {
      discard(res.body);
      return { status: 'not-modified', url: url.toString() };
    }
    if (status === 404 || status === 410) {
      discard(res.body);
      return { status: 'not-found', url: url.toString() };
    }
    if (status !== 200) {
      discard(res.body);
      throw httpStatusError(status, url, req.what, headers.authorization !== undefined);
    }
    const length = Number(header(res.headers, 'content-length') ?? NaN);
    const tooLarge = (): PkgError =>
      new PkgError(RepoErrorCodes.REPO_TOO_LARGE, `${req.what}: ${redactUrl(url)} is larger than the ${req.maxBytes} bytes allowed`, {
        hint: 'raise network.max_index_size in the configuration if the repository really is that large',
        details: { url: redactUrl(url), limit: req.maxBytes },
      });
    if (Number.isFinite(length) && length > req.maxBytes) {
      discard(res.body);
      throw tooLarge();
    }
    const chunks: Buffer[] = [];
    let total = 0;
    try {
      for await (const chunk of res.body) {
        total += (chunk as Buffer).length;
        if (total > req.maxBytes) {
          discard(res.body);
          throw tooLarge();
        }
        chunks.push(chunk as Buffer);
      }
    } catch (e) {
      if (e instanceof PkgError) throw e;
      throw classifyNetworkError(e, url, req.what, settings, signal);
    }
    return { status: 'ok', body: Buffer.concat(chunks, total), etag: header(res.headers, 'etag'), lastModified: header(res.headers, 'last-modified'), url: url.toString() };
  }
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, undefined, { signal });

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const { settings } = opts;
  const env = opts.env ?? process.env;
  let dispatcher: Dispatcher | null = null;
  const getDispatcher = async (): Promise<Dispatcher> => {
    if (dispatcher) return dispatcher;
    const ca = caList(settings, env);
    const tls = ca ? { ca } : {};
    const { EnvHttpProxyAgent } = await loadUndici();
    dispatcher = new EnvHttpProxyAgent({
      connect: { timeout: settings.connectTimeoutMs, ...tls },
      requestTls: { timeout: settings.connectTimeoutMs, ...tls },
      headersTimeout: settings.idleTimeoutMs,
      bodyTimeout: settings.idleTimeoutMs,
      ...(env.HTTPS_PROXY || env.https_proxy ? { httpsProxy: env.HTTPS_PROXY ?? env.https_proxy } : {}),
      ...(env.HTTP_PROXY || env.http_proxy ? { httpProxy: env.HTTP_PROXY ?? env.http_proxy } : {}),
      ...(env.NO_PROXY || env.no_proxy ? { noProxy: env.NO_PROXY ?? env.no_proxy } : {}),
    });
    return dispatcher;
  };
  const pause = opts.sleep ?? defaultSleep;

  return {
    async get(req) {
      const signal = AbortSignal.timeout(settings.totalTimeoutMs);
      const attempts = settings.retries + 1;
      for (let n = 1; ; n++) {
        try {
          opts.reporter?.info?.(`GET ${redactUrl(req.url)}${n > 1 ? ` (attempt ${n} of ${attempts})` : ''}`);
          return await attempt(await getDispatcher(), req, settings, signal);
        } catch (e) {
          const err = e as PkgError;
          const retryable = err instanceof PkgError && err.details.retryable === true && !signal.aborted;
          if (!retryable || n >= attempts) {
            if (err instanceof PkgError && n > 1) err.details.attempts = n;
            if (err instanceof PkgError && n > 1 && retryable) err.message += ` (after ${n} attempts)`;
            throw err;
          }
          const delay = Math.round(settings.retryDelayMs * 2 ** (n - 1) * (1 + Math.random() * 0.25));
          opts.reporter?.info?.(`${err.message}; retrying in ${(delay / 1000).toFixed(1)} s`);
          try {
            await pause(delay, signal);
          } catch {
            throw classifyNetworkError(signal.reason, new URL(req.url), req.what, settings, signal);
          }
        }
      }
    },
    async close() {
      if (dispatcher) await dispatcher.close();
      dispatcher = null;
    },
  };
}
