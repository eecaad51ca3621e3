/**
 * A real nginx (Debian package `nginx`) on 127.0.0.1 for the repository tests: random free ports,
 * its config, logs and pid in a temporary directory, TLS from a throwaway CA made once per test
 * process (openssl CLI), stopped after the test. No network beyond loopback.
 *
 * Each server listens on three ports: `port` (https), `altPort` (https, another origin on the same
 * server, for cross-origin redirects) and `httpPort` (plain http). The access log records, per
 * request: method, URI, status, whether an Authorization header came, and the port it came to.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AfterHook } from './tmp.js';

export interface TestCA {
  readonly dir: string;
  /** The CA certificate (PEM): what clients must trust. */
  readonly caFile: string;
  /** Server certificate for 127.0.0.1 and localhost, and its key. */
  readonly certFile: string;
  readonly keyFile: string;
}

let ca: TestCA | null = null;

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')} failed:\n${r.stderr}`);
}

/** A CA and a server certificate signed by it, made once per test process, removed at exit. */
export function testCA(): TestCA {
  if (ca) return ca;
  const dir = mkdtempSync(join(tmpdir(), 'enpkg-test-ca-'));
  process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=enpkg test CA (throwaway)', '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1'], dir);
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'ext.cnf'], dir);
  ca = { dir, caFile: join(dir, 'ca.pem'), certFile: join(dir, 'server.pem'), keyFile: join(dir, 'server.key') };
  return ca;
}

/** `n` distinct free ports on 127.0.0.1 (held together while choosing, so they differ). */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

export interface AccessLine {
  readonly method: string;
  readonly uri: string;
  readonly status: number;
  /** An Authorization header came with the request. */
  readonly auth: boolean;
  readonly port: number;
}

export interface NginxOptions {
  /** The document root. */
  readonly root: string;
  /**
   * Directives inside the server block (locations, ...). `@PORT@`, `@ALTPORT@`, `@HTTPPORT@` and
   * `@CONF@` (the config directory, for htpasswd files) are replaced.
   */
  readonly server?: string;
  /** Files written into the config directory before start (name -> content). */
  readonly files?: Record<string, string>;
}

export interface Nginx {
  readonly port: number;
  readonly altPort: number;
  readonly httpPort: number;
  /** https://127.0.0.1:port + path. */
  url(path: string): string;
  readonly caFile: string;
  /** The access log so far. */
  requests(): AccessLine[];
  stop(): Promise<void>;
}

function waitForPort(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), resolve(true)));
    s.once('error', () => resolve(false));
  });
}

export async function startNginx(t: AfterHook, opts: NginxOptions): Promise<Nginx> {
  const { caFile, certFile, keyFile } = testCA();
  const dir = mkdtempSync(join(tmpdir(), 'enpkg-nginx-'));
  for (const sub of ['tmp', 'logs']) mkdirSync(join(dir, sub));
  for (const [name, content] of Object.entries(opts.files ?? {})) writeFileSync(join(dir, name), content);
  const [port, altPort, httpPort] = (await freePorts(3)) as [number, number, number];
  const fill = (s: string): string => s.replaceAll('@PORT@', String(port)).replaceAll('@ALTPORT@', String(altPort)).replaceAll('@HTTPPORT@', String(httpPort)).replaceAll('@CONF@', dir);
  const conf = `
${process.getuid?.() === 0 ? 'user root root;' : ''}
daemon off;
master_process on;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/logs/error.log info;
events { worker_connections 128; }
http {
  map $http_authorization $has_auth { "" no; default yes; }
  log_format t '$request_method $request_uri $status $has_auth $server_port';
  access_log ${dir}/logs/access.log t;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  default_type application/octet-stream;
  sendfile off;
  server {
    listen 127.0.0.1:${port} ssl;
    listen 127.0.0.1:${altPort} ssl;
    listen 127.0.0.1:${httpPort};
    server_name 127.0.0.1;
    ssl_certificate ${certFile};
    ssl_certificate_key ${keyFile};
    root ${opts.root};
    ${fill(opts.server ?? '')}
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child: ChildProcess = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'logs', 'error.log')], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` },
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let running = true;
  void exited.then(() => (running = false));
  const errorLog = (): string => {
    try {
      return readFileSync(join(dir, 'logs', 'error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const stop = async (): Promise<void> => {
    if (running) {
      child.kill('SIGTERM');
      await exited;
    }
    if (!process.env.KEEP_TEST_TMP) rmSync(dir, { recursive: true, force: true });
  };
  t.after(stop);
  child.once('error', (e) => (stderr += String(e)));
  const deadline = Date.now() + 15_000;
  for (;;) {
    if (!running) throw new Error(`nginx exited at start:\n${stderr}\n${errorLog()}`);
    if ((await waitForPort(port)) && (await waitForPort(altPort)) && (await waitForPort(httpPort))) break;
    if (Date.now() > deadline) throw new Error(`nginx did not start listening within 15 s:\n${stderr}\n${errorLog()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    port,
    altPort,
    httpPort,
    caFile,
    url: (path) => `https://127.0.0.1:${port}${path.startsWith('/') ? '' : '/'}${path}`,
    requests() {
      let text = '';
      try {
        text = readFileSync(join(dir, 'logs', 'access.log'), 'utf8');
      } catch {
        return [];
      }
      return text
        .split('\n')
        .filter(Boolean)
        .map((line) => {
          const [method, uri, status, auth, p] = line.split(' ');
          return { method: method!, uri: uri!, status: Number(status), auth: auth === 'yes', port: Number(p) };
        });
    },
    stop,
  };
}
