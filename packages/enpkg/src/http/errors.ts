/**
 * Transport failures as PkgErrors: what failed (redacted URL), why, what to do, and whether another
 * attempt may help (`details.retryable`).
 */
import { PkgError } from '../errors.js';
import { RepoErrorCodes } from '../repo/errors.js';
import { redactUrl } from '../repo/location.js';
import type { NetworkSettings } from '../repo/types.js';
import { CONNECT_TIMEOUT, IDLE_TIMEOUT } from './transport.js';

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REVOKED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
]);

function errorCode(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return (e as { code?: string } | null)?.code;
}

const seconds = (ms: number): string => `${ms >= 1000 ? (ms / 1000).toFixed(ms % 1000 ? 1 : 0) : (ms / 1000).toFixed(2)} s`;

export function classifyNetworkError(e: unknown, url: URL, what: string, settings: NetworkSettings, signal: AbortSignal): PkgError {
  if (e instanceof PkgError) return e;
  const shown = redactUrl(url);
  const code = errorCode(e);
  const timeout = (why: string, key: string, retryable: boolean): PkgError =>
    new PkgError(RepoErrorCodes.REPO_TIMEOUT, `${what}: ${shown}: ${why}`, {
      hint: `check the server and the network, or raise ${key} in the configuration`,
      cause: e,
      details: { url: shown, retryable },
    });
  if (signal.aborted) return timeout(`not done within ${seconds(settings.totalTimeoutMs)} (overall timeout)`, 'network.timeout', false);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === CONNECT_TIMEOUT)
    return timeout(`no connection within ${seconds(settings.connectTimeoutMs)} (connect timeout)`, 'network.connect_timeout', true);
  if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === IDLE_TIMEOUT) {
    return timeout(`the server sent nothing for ${seconds(settings.idleTimeoutMs)} (idle timeout)`, 'network.idle_timeout', true);
  }
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_'))) {
    return new PkgError(RepoErrorCodes.REPO_TLS_FAILED, `${what}: ${shown}: the TLS connection failed (${code})`, {
      hint:
        "the server's certificate is not trusted or not valid for this host; " +
        'a private CA can be trusted with network.ca_file or NODE_EXTRA_CA_CERTS',
      cause: e,
      details: { url: shown, code, retryable: false },
    });
  }
  const message = e instanceof Error ? e.message : String(e);
  const detail = message && !message.includes(code ?? '\0') ? ` (${message.replaceAll(url.toString(), shown)})` : '';
  return new PkgError(RepoErrorCodes.REPO_UNREACHABLE, `${what}: ${shown}: ${code ?? 'connection failed'}${detail}`, {
    hint: 'check the URL, the network and any proxy (HTTPS_PROXY, NO_PROXY); --offline uses the cached index',
    cause: e,
    details: { url: shown, code, retryable: true },
  });
}

export function httpStatusError(status: number, url: URL, what: string, sentCredentials: boolean): PkgError {
  const shown = redactUrl(url);
  if (status === 401 || status === 403) {
    return new PkgError(
      RepoErrorCodes.REPO_AUTH_FAILED,
      `${what}: ${shown}: ${status === 401 ? '401 Unauthorized' : '403 Forbidden'}` +
        (sentCredentials ? ' (the credentials were refused)' : ' (no credentials were sent)'),
      {
        hint: sentCredentials
          ? "check the token or user/password the repository's auth names"
          : 'configure auth for the repository (token or user/password from the environment or a file)',
        details: { url: shown, status, retryable: false },
      },
    );
  }
  const retryable = status >= 500 || status === 429 || status === 408;
  return new PkgError(RepoErrorCodes.REPO_HTTP_ERROR, `${what}: ${shown}: HTTP ${status}`, {
    hint: retryable ? 'the server failed; try again later, or configure a mirror' : 'check the repository URL',
    details: { url: shown, status, retryable },
  });
}
