/**
 * The HTTP client over its direct transport (Node's http/https), against a local server: bodies with
 * and without a Content-Length, the size cap, kept-alive connections, and the idle timeout in the
 * middle of a body.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { createHttpClient, PkgError } from 'enpkg';
import type { NetworkSettings } from '../src/repo/types.js';

const settings: NetworkSettings = {
  connectTimeoutMs: 2000,
  idleTimeoutMs: 300,
  totalTimeoutMs: 10_000,
  retries: 0,
  retryDelayMs: 10,
  caFile: null,
  maxIndexSize: 1 << 20,
  proxy: null,
  verifyTls: true,
};

async function server(t: TestContext, handler: (req: IncomingMessage, res: ServerResponse) => void) {
  const sockets = new Set<Socket>();
  const s = createServer(handler);
  s.on('connection', (c) => sockets.add(c));
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => (s.closeAllConnections(), s.close(resolve))));
  return { url: `http://127.0.0.1:${(s.address() as { port: number }).port}`, connections: () => sockets.size };
}

const client = (t: TestContext) => {
  const http = createHttpClient({ settings, env: {} });
  t.after(() => http.close());
  return http;
};
const get = (http: ReturnType<typeof createHttpClient>, url: string, maxBytes = 1 << 20) =>
  http.get({ url, authorization: null, allowHttp: true, what: 'the test file', maxBytes });

test('bodies with and without a Content-Length arrive whole, over one kept-alive connection', async (t) => {
  const body = Buffer.alloc(300_000, 7);
  const srv = await server(t, (req, res) => {
    if (req.url === '/chunked') {
      res.write(body.subarray(0, 1000));
      res.end(body.subarray(1000));
    } else res.end(body);
  });
  const http = client(t);
  for (const path of ['/sized', '/chunked', '/sized']) {
    const r = await get(http, `${srv.url}${path}`);
    assert.equal(r.status, 'ok');
    assert.ok(r.status === 'ok' && r.body.equals(body), path);
  }
  assert.equal(srv.connections(), 1);
});

test('a body over the cap is refused, declared or not', async (t) => {
  const srv = await server(t, (req, res) => {
    if (req.url === '/chunked') {
      res.write(Buffer.alloc(600));
      res.end(Buffer.alloc(600));
    } else res.end(Buffer.alloc(1200));
  });
  const http = client(t);
  for (const path of ['/sized', '/chunked']) {
    await assert.rejects(get(http, `${srv.url}${path}`, 1000), (e: unknown) => e instanceof PkgError && e.code === 'REPO_TOO_LARGE');
  }
});

test('a server that stops in the middle of a body ends the request with the idle timeout', async (t) => {
  const srv = await server(t, (_req, res) => {
    res.writeHead(200, { 'content-length': '1000' });
    res.write(Buffer.alloc(10));
  });
  const http = client(t);
  await assert.rejects(
    get(http, `${srv.url}/stalls`),
    (e: unknown) => e instanceof PkgError && e.code === 'REPO_TIMEOUT' && /\(idle timeout\)/.test(e.message),
  );
});
