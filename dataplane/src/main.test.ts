/**
 * Process test, standalone mode: `node dataplane/src/main.ts --config FILE --admin 127.0.0.1:0 --workers 2`
 * proxying to a node:http origin, driven over HTTP/3 (the library's client) and HTTPS/1.1.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { h1Request, h3Request } from './testing/clients.ts';
import { freeUdpTcpPort } from './testing/free-port.ts';
import { LogLines } from './testing/log-lines.ts';
import { makeSelfSignedCert } from './testing/self-signed-cert.ts';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

describe('data plane process (standalone)', () => {
  let origin: Server;
  let child: ChildProcess;
  let logs: LogLines;
  let port: number;
  let admin: string;

  before(async () => {
    origin = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'text/plain', 'x-seen-xff': String(req.headers['x-forwarded-for'] ?? '') });
        res.end(`origin ${req.method} ${req.url} ${Buffer.concat(chunks).toString('utf8')}`);
      });
    });
    await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', () => resolve()));
    const originPort = (origin.address() as AddressInfo).port;

    const cert = makeSelfSignedCert();
    port = await freeUdpTcpPort();
    const configPath = join(cert.dir, 'spooky.yaml');
    writeFileSync(
      configPath,
      [
        'version: 1',
        'listen:',
        '  address: 127.0.0.1',
        `  port: ${port}`,
        '  tls:',
        `    cert: ${cert.certPath}`,
        `    key: ${cert.keyPath}`,
        'upstream:',
        '  app:',
        '    route:',
        '      path_prefix: /',
        '    backends:',
        '      - id: app-1',
        `        address: http://127.0.0.1:${originPort}`,
        '',
      ].join('\n'),
    );
    child = spawn(process.execPath, [MAIN, '--config', configPath, '--admin', '127.0.0.1:0', '--drain-timeout-ms', '2000', '--workers', '2'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    logs = new LogLines(child);
    admin = String((await logs.waitForMsg('data plane started'))['admin']);
    const applied = await logs.waitForMsg('generation applied');
    assert.equal(applied['source'], 'local-file');
    assert.deepEqual(applied['listeners'], [{ address: '127.0.0.1', port }]);
    const all = await logs.waitForMsg('generation applied by all workers');
    assert.equal((all['workers'] as number[]).length, 2);
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    await new Promise<void>((resolve) => origin.close(() => resolve()));
  });

  it('proxies an HTTP/3 GET and advertises Alt-Svc', async () => {
    const reply = await h3Request(port, 'GET', '/hello?q=1');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'origin GET /hello?q=1 ');
    assert.equal(reply.headers['alt-svc'], `h3=":${port}"; ma=86400`);
  });

  it('proxies an HTTP/3 POST body', async () => {
    const reply = await h3Request(port, 'POST', '/submit', 'payload-h3');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'origin POST /submit payload-h3');
  });

  it('proxies HTTPS/1.1 on the TCP side of the same port', async () => {
    const reply = await h1Request(port, 'POST', '/h1', 'payload-h1');
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'origin POST /h1 payload-h1');
    assert.equal(reply.headers['alt-svc'], `h3=":${port}"; ma=86400`);
  });

  it('writes one access-log line per request', async () => {
    const line = await logs.waitFor((l) => l['msg'] === 'request' && l['path'] === '/submit');
    assert.equal(line['status'], 200);
    assert.equal(line['upstream'], 'app');
    assert.equal(line['protocol'], 'h3');
  });

  it('serves the admin endpoints', async () => {
    assert.equal((await fetch(`${admin}/live`)).status, 200);
    assert.equal((await fetch(`${admin}/ready`)).status, 200);
    const generation = (await (await fetch(`${admin}/generation`)).json()) as Record<string, unknown>;
    assert.deepEqual(generation['listeners'], [{ address: '127.0.0.1', port }]);
    assert.equal((generation['workers'] as { seq: number }[]).filter((w) => w.seq === 0).length, 2);
    const serving = generation['serving'] as Record<string, unknown>;
    assert.equal(serving['source'], 'local-file');
    assert.equal(serving['scope'], 'local');
    assert.match(String(serving['digest']), /^sha256:[0-9a-f]{64}$/);
    const metrics = await (await fetch(`${admin}/metrics`)).text();
    assert.match(metrics, /spooky_requests_total\{route="app",upstream="app",status_class="2xx",outcome="ok"\} \d+/);
    assert.match(metrics, /spooky_generation_info\{seq="0",digest="sha256:[0-9a-f]{64}"\} 1/);
    // Two workers, aggregated: each applied the generation once; the info gauge is not summed.
    assert.match(metrics, /spooky_generation_applies_total\{result="ok"\} 2/);
    assert.match(metrics, /spooky_workers 2/);
    assert.match(metrics, /spooky_worker_requests_total\{worker="0"\} \d+/);
    assert.match(metrics, /spooky_worker_requests_total\{worker="1"\} \d+/);
    assert.match(metrics, /spooky_inflight_requests 0/);
  });

  it('stops cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    assert.ok(logs.lines.some((l) => l['msg'] === 'data plane stopped'));
  });
});

describe('data plane process flags', () => {
  it('exits 2 with a clear message on bad flags', async () => {
    const child = spawn(process.execPath, [MAIN, '--admin', 'nonsense'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    const [code] = await once(child, 'exit');
    assert.equal(code, 2);
    assert.match(stderr, /--admin: expected HOST:PORT/);
  });
});
