/**
 * GET over HTTPS the careful way: conditional requests, redirects followed by hand (at most 5, never
 * to `file:` and never to plain http unless the repository is insecure, credentials dropped when the
 * origin changes), retries with exponential back-off on connection errors, timeouts and 5xx,
 * connect / idle / overall timeouts, a size cap, the proxy of the configuration or of HTTPS_PROXY /
 * NO_PROXY (proxy.ts; Node 20's fetch reads neither). URLs are redacted in every message. The
 * transport (transport.ts) is Node's https for direct connections, undici when a proxy is configured.
 *
 * `get` reads a small body (an index) into memory under a cap; `download` streams a large one (an
 * egg) into a sink the caller opens per attempt (a `.partial` file, hashed as it is written).
 */
import { createHash } from 'node:crypto';
import type { SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import { ErrorCodes, PkgError } from '../errors.js';
import { RepoErrorCodes, RepoWarningCodes } from '../repo/errors.js';
import { redactUrl } from '../repo/location.js';
import type { NetworkSettings } from '../repo/types.js';
import type { Reporter } from '../report.js';
import { classifyNetworkError, httpStatusError } from './errors.js';
import { environmentProxies, proxyUrlWithCredentials } from './proxy.js';
import { readFailure, readRegularFileSync } from '../readfile.js';
import { type Exchange, nodeTransport, proxyTransport, type Transport } from './transport.js';

export const MAX_REDIRECTS = 5;

interface RequestBase {
  readonly url: string;
  /** Sent only to the origin of `url`: dropped as soon as a redirect leaves it. */
  readonly authorization: string | null;
  /** The repository is marked insecure: plain http allowed (also as a redirect target). */
  readonly allowHttp: boolean;
  /** What is being fetched, for messages: `the index of acme`. */
  readonly what: string;
  /** Aborting it ends the request (and any retry) with an INTERRUPTED error. */
  readonly signal?: AbortSignal;
}

export interface GetRequest extends RequestBase {
  readonly etag?: string | null;
  readonly lastModified?: string | null;
  readonly maxBytes: number;
}

export type GetResult =
  | {
      readonly status: 'ok';
      readonly body: Buffer;
      readonly etag: string | null;
      readonly lastModified: string | null;
      readonly url: string;
    }
  | { readonly status: 'not-modified'; readonly url: string }
  | { readonly status: 'not-found'; readonly url: string };

/**
 * Where a download's body goes. A fresh sink is opened for every attempt that gets a 200; a failed
 * attempt's sink is aborted before the next one is opened.
 */
export interface DownloadSink<T> {
  /** Must reject (with a PkgError) to refuse the body, e.g. when it grows past the expected size. */
  write(chunk: Buffer): Promise<void>;
  /** The body ended: must check it and return the result, or reject (the sink cleans up itself). */
  finish(): Promise<T>;
  /** The attempt failed or was interrupted: must release what `open` took (never rejects). */
  abort(): Promise<void>;
}

export interface DownloadRequest<T> extends RequestBase {
  /** Called per attempt once the response is a 200; `contentLength` is null when the server sent none. */
  open(response: { readonly url: string; readonly contentLength: number | null }): Promise<DownloadSink<T>>;
}

export type DownloadResult<T> =
  | { readonly status: 'ok'; readonly value: T; readonly url: string }
  | { readonly status: 'not-found'; readonly url: string };

export interface HttpClient {
  get(req: GetRequest): Promise<GetResult>;
  /** Stream a body into a sink: redirects, retries, timeouts and credentials as for `get`. */
  download<T>(req: DownloadRequest<T>): Promise<DownloadResult<T>>;
  close(): Promise<void>;
}

export interface HttpClientOptions {
  readonly settings: NetworkSettings;
  readonly reporter?: Reporter | undefined;
  readonly env?: NodeJS.ProcessEnv;
  /** Back-off sleeps (tests make them instant). */
  readonly sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** Trusted CAs: the system's (and NODE_EXTRA_CA_CERTS, which Node adds itself) plus `network.ca_file`. */
function caList(settings: NetworkSettings, env: NodeJS.ProcessEnv, rootCertificates: readonly string[]): string[] | undefined {
  if (!settings.caFile) return undefined;
  const read = (file: string, key: string): string => {
    try {
      return readRegularFileSync(file).toString('utf8');
    } catch (e) {
      throw new PkgError(RepoErrorCodes.CONFIG_INVALID, `cannot read the CA certificates in ${file} (${key}): ${readFailure(e)}`, {
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

/** Contexts by their CA list: a second client (index, then eggs) does not build the same one again. */
const contexts = new Map<string, SecureContext>();

function secureContextFor(ca: readonly string[], createSecureContext: typeof import('node:tls').createSecureContext): SecureContext {
  const key = createHash('sha256').update(ca.join('\n')).digest('hex');
  let ctx = contexts.get(key);
  if (!ctx) contexts.set(key, (ctx = createSecureContext({ ca: [...ca] })));
  return ctx;
}

function header(headers: Record<string, string | string[] | undefined>, name: string): string | null {
  const v = headers[name];
  if (v === undefined) return null;
  return Array.isArray(v) ? (v[0] ?? null) : v;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Drop a response body we do not read (its errors, such as the abort itself, are not ours). */
function discard(body: Exchange['body']): void {
  body.on('error', () => {});
  body.destroy();
}

type Response =
  | { readonly status: 'ok'; readonly res: Exchange; readonly url: URL }
  | { readonly status: 'not-modified' | 'not-found'; readonly url: URL };

/**
 * One attempt up to the final response's headers: follows redirects, maps statuses. A 200's body is
 * left to the caller. Throws PkgError with `retryable` in details.
 */
async function respond(
  transport: Transport,
  req: GetRequest | DownloadRequest<unknown>,
  settings: NetworkSettings,
  signal: AbortSignal,
): Promise<Response> {
  let url = new URL(req.url);
  const origin = url.origin;
  const conditional = 'maxBytes' in req ? req : null;
  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'enpkg', accept: '*/*' };
    if (req.authorization && url.origin === origin) headers.authorization = req.authorization;
    if (conditional?.etag) headers['if-none-match'] = conditional.etag;
    if (conditional?.lastModified) headers['if-modified-since'] = conditional.lastModified;
    let res: Exchange;
    try {
      res = await transport.send(url, headers, signal);
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
    if (status === 304 && conditional) {
      discard(res.body);
      return { status: 'not-modified', url };
    }
    if (status === 404 || status === 410) {
      discard(res.body);
      return { status: 'not-found', url };
    }
    if (status !== 200) {
      discard(res.body);
      throw httpStatusError(status, url, req.what, headers.authorization !== undefined);
    }
    return { status: 'ok', res, url };
  }
}

function contentLength(res: Exchange): number | null {
  const text = header(res.headers, 'content-length');
  const n = text === null ? NaN : Number(text);
  return Number.isSafeInteger(n) && n >= 0 ? n : null;
}

/** `get`: the whole body in memory, under the cap. */
async function readBody(
  r: Extract<Response, { status: 'ok' }>,
  req: GetRequest,
  settings: NetworkSettings,
  signal: AbortSignal,
): Promise<GetResult> {
  const { res, url } = r;
  const length = contentLength(res);
  const tooLarge = (): PkgError =>
    new PkgError(RepoErrorCodes.REPO_TOO_LARGE, `${req.what}: ${redactUrl(url)} is larger than the ${req.maxBytes} bytes allowed`, {
      hint: 'raise network.max_index_size in the configuration if the repository really is that large',
      details: { url: redactUrl(url), limit: req.maxBytes },
    });
  if (length !== null && length > req.maxBytes) {
    discard(res.body);
    throw tooLarge();
  }
  // With a Content-Length, the body goes straight into one buffer of that size (no list of chunks
  // and second copy); a body that turns out longer or shorter is collected the general way.
  let into: Buffer | null = length !== null && length > 0 ? Buffer.allocUnsafe(length) : null;
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of res.body) {
      const c = chunk as Buffer;
      if (total + c.length > req.maxBytes) {
        discard(res.body);
        throw tooLarge();
      }
      if (into !== null && total + c.length <= into.length) c.copy(into, total);
      else {
        if (into !== null) chunks.push(into.subarray(0, total));
        into = null;
        chunks.push(c);
      }
      total += c.length;
    }
  } catch (e) {
    if (e instanceof PkgError) throw e;
    throw classifyNetworkError(e, url, req.what, settings, signal);
  }
  const body = into !== null ? into.subarray(0, total) : Buffer.concat(chunks, total);
  return {
    status: 'ok',
    body,
    etag: header(res.headers, 'etag'),
    lastModified: header(res.headers, 'last-modified'),
    url: url.toString(),
  };
}

/** `download`: the body streamed into a sink opened for this attempt. */
async function streamBody<T>(
  r: Extract<Response, { status: 'ok' }>,
  req: DownloadRequest<T>,
  settings: NetworkSettings,
  signal: AbortSignal,
): Promise<DownloadResult<T>> {
  const { res, url } = r;
  let sink: DownloadSink<T>;
  try {
    sink = await req.open({ url: url.toString(), contentLength: contentLength(res) });
  } catch (e) {
    discard(res.body);
    throw e;
  }
  try {
    for await (const chunk of res.body) await sink.write(chunk as Buffer);
  } catch (e) {
    discard(res.body);
    await sink.abort();
    if (e instanceof PkgError) throw e;
    throw classifyNetworkError(e, url, req.what, settings, signal);
  }
  return { status: 'ok', value: await sink.finish(), url: url.toString() };
}

/** The error for a request the caller aborted (Ctrl-C): not retried, not a network failure. */
function interrupted(req: RequestBase): PkgError {
  return new PkgError(ErrorCodes.INTERRUPTED, `${req.what}: interrupted`, {
    hint: 'run the command again',
    details: { url: redactUrl(req.url), retryable: false },
  });
}

let tlsWarned = false;

/** Certificates are not checked: said once per run (every run that connects with -k or verify_ssl: false). */
function warnTlsOff(reporter: Reporter | undefined): void {
  if (tlsWarned) return;
  tlsWarned = true;
  reporter?.report({
    type: 'warning',
    warning: {
      code: RepoWarningCodes.TLS_VERIFY_OFF,
      message:
        'TLS certificates are not verified (-k/--insecure or verify_ssl: false): anyone on the network path can change what is fetched',
    },
  });
}

const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> => sleep(ms, undefined, { signal });

export function createHttpClient(opts: HttpClientOptions): HttpClient {
  const { settings } = opts;
  const env = opts.env ?? process.env;
  const makeTransport = async (): Promise<Transport> => {
    // node:tls is loaded here, not at start-up: commands that never connect do not pay for it.
    const { createSecureContext, rootCertificates } = await import('node:tls');
    const ca = caList(settings, env, rootCertificates);
    // One context for every connection: given `ca` instead, Node would parse the ~150 certificates
    // again for each new connection (tens of ms each, which parallel downloads multiply).
    const common = {
      connectTimeoutMs: settings.connectTimeoutMs,
      idleTimeoutMs: settings.idleTimeoutMs,
      secureContext: ca ? secureContextFor(ca, createSecureContext) : null,
      verifyTls: settings.verifyTls,
    };
    if (!settings.verifyTls) warnTlsOff(opts.reporter);
    const fromEnv = environmentProxies(env);
    const https = settings.proxy ?? fromEnv.https;
    const http = settings.proxy ?? fromEnv.http;
    if (!https && !http) return nodeTransport(common);
    return proxyTransport({
      ...common,
      httpsProxy: https ? proxyUrlWithCredentials(https, env) : null,
      httpProxy: http ? proxyUrlWithCredentials(http, env) : null,
      noProxy: fromEnv.noProxy,
    });
  };
  // The promise is shared: requests that start together (parallel downloads, several repositories'
  // indexes) must not each make a transport of their own (no shared connections, never closed).
  let transport: Promise<Transport> | null = null;
  const getTransport = (): Promise<Transport> => {
    transport ??= makeTransport().catch((e: unknown) => {
      transport = null;
      throw e;
    });
    return transport;
  };
  const pause = opts.sleep ?? defaultSleep;

  /**
   * One resource: attempts with exponential back-off while the failure is retryable, all within the
   * overall timeout; the caller's signal ends it as INTERRUPTED.
   */
  const withRetries = async <R>(req: RequestBase, once: (transport: Transport, signal: AbortSignal) => Promise<R>): Promise<R> => {
    const timeout = AbortSignal.timeout(settings.totalTimeoutMs);
    const signal = req.signal ? AbortSignal.any([timeout, req.signal]) : timeout;
    const attempts = settings.retries + 1;
    for (let n = 1; ; n++) {
      if (req.signal?.aborted) throw interrupted(req);
      try {
        opts.reporter?.report({ type: 'info', message: `GET ${redactUrl(req.url)}${n > 1 ? ` (attempt ${n} of ${attempts})` : ''}` });
        return await once(await getTransport(), signal);
      } catch (e) {
        if (req.signal?.aborted) throw interrupted(req);
        const err = e as PkgError;
        const retryable = err instanceof PkgError && err.details.retryable === true && !signal.aborted;
        if (!retryable || n >= attempts) {
          if (err instanceof PkgError && n > 1) err.details.attempts = n;
          if (err instanceof PkgError && n > 1 && retryable) err.message += ` (after ${n} attempts)`;
          throw err;
        }
        const delay = Math.round(settings.retryDelayMs * 2 ** (n - 1) * (1 + Math.random() * 0.25));
        opts.reporter?.report({ type: 'info', message: `${err.message}; retrying in ${(delay / 1000).toFixed(1)} s` });
        try {
          await pause(delay, signal);
        } catch {
          if (req.signal?.aborted) throw interrupted(req);
          throw classifyNetworkError(timeout.reason, new URL(req.url), req.what, settings, signal);
        }
      }
    }
  };

  return {
    get(req) {
      return withRetries(req, async (transport, signal) => {
        const r = await respond(transport, req, settings, signal);
        return r.status === 'ok' ? readBody(r, req, settings, signal) : { status: r.status, url: r.url.toString() };
      });
    },
    download<T>(req: DownloadRequest<T>) {
      return withRetries(req, async (transport, signal): Promise<DownloadResult<T>> => {
        const r = await respond(transport, req, settings, signal);
        if (r.status === 'ok') return streamBody(r, req, settings, signal);
        if (r.status === 'not-found') return { status: 'not-found', url: r.url.toString() };
        throw new Error('unreachable: 304 without validators');
      });
    },
    async close() {
      const d = transport;
      transport = null;
      if (d) await (await d.catch(() => null))?.close();
    },
  };
}
