/**
 * REST over TLS end to end: real control-plane processes serving HTTPS with certificates from
 * a throwaway CA (system openssl), spookyctl run as a child process the way CI runs it, and
 * node:tls / node:https clients for what spookyctl cannot show (the handshake itself, which
 * certificate a connection got, keep-alive reuse).
 *
 * One control plane serves TLS only (trust, reload), one requires client certificates (mTLS).
 * The reload test runs last: it changes the first one's certificate. The last test searches
 * every log line, stderr line, spookyctl output and API answer of the file for the token, the
 * private keys' text and the key file paths.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Agent, createServer as createHttpsServer, request, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import { makeCa, makeLeaf, type Pem } from './harness/pki.ts';
import { CONTROL_PLANE_MAIN, writeAdminToken } from './harness/planes.ts';
import { SpawnedProcess } from './harness/spawned-process.ts';

const SPOOKYCTL = join(import.meta.dirname, '..', '..', 'controlplane', 'src', 'cli', 'spookyctl.ts');

interface CtlRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly fingerprint: string;
  readonly localPort: number;
}

describe('REST over TLS, mTLS and certificate reload (real processes)', () => {
  let dir: string;
  let ca: Pem;
  let otherCa: Pem;
  let clientCa: Pem;
  let server: Pem;
  let client: Pem;
  let strangerClient: Pem;
  let tokensFile: string;
  let token: string;
  let tls: { proc: SpawnedProcess; url: string };
  let mtls: { proc: SpawnedProcess; url: string };
  const shown: string[] = [];
  /** Text of every private key the test made (files get replaced: kept as they were). */
  const keyTexts: string[] = [];
  const procs: SpawnedProcess[] = [];

  async function startCp(name: string, extra: string[]): Promise<{ proc: SpawnedProcess; url: string }> {
    const proc = new SpawnedProcess(`cp-${name}`, CONTROL_PLANE_MAIN, [
      '--db', join(dir, `${name}.db`), '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--tokens', tokensFile, ...extra,
    ]);
    procs.push(proc);
    const ready = await proc.waitForLog((l) => l.msg === 'control plane ready');
    return { proc, url: String(ready['http']) };
  }

  /** spookyctl with the token from SPOOKY_TOKEN (no TTY, stdin closed), bounded by 30 s. */
  function ctl(args: string[], env: Record<string, string> = {}): Promise<CtlRun> {
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [SPOOKYCTL, ...args], {
        env: { ...process.env, SPOOKY_TOKEN: token, SPOOKY_CA_FILE: '', SPOOKY_CLIENT_CERT: '', SPOOKY_CLIENT_KEY: '', ...env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let stdout = '';
      let stderr = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        shown.push(stdout, stderr);
        resolve({ code, stdout, stderr });
      });
    });
  }

  async function expectExit(args: string[], code: number, env: Record<string, string> = {}): Promise<CtlRun> {
    const run = await ctl(args, env);
    assert.equal(run.code, code, `spookyctl ${args.join(' ')} → ${run.code}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
    return run;
  }

  /** One GET over `agent` with the token; the peer certificate's fingerprint and the local port say which connection answered. */
  function get(url: string, agent: Agent, path = '/v1/scopes/default/active'): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = request(`${url}${path}`, { agent, headers: { authorization: `Bearer ${token}` }, timeout: 10_000 }, (res) => {
        const socket = res.socket as TLSSocket;
        const fingerprint = socket.getPeerCertificate().fingerprint256;
        const localPort = socket.localPort ?? 0;
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.once('end', () => {
          shown.push(body);
          resolve({ status: res.statusCode ?? 0, body, fingerprint, localPort });
        });
        res.once('error', reject);
      });
      req.once('timeout', () => req.destroy(new Error('no answer within 10 s')));
      req.once('error', reject);
      req.end();
    });
  }

  /** The SHA-256 fingerprint of a PEM certificate file, in node's colon notation. */
  function fingerprintOf(certFile: string): string {
    return new X509Certificate(readFileSync(certFile)).fingerprint256;
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-rest-tls-'));
    ca = makeCa(join(dir, 'pki'), 'rest-ca');
    otherCa = makeCa(join(dir, 'pki'), 'other-ca');
    clientCa = makeCa(join(dir, 'pki'), 'client-ca');
    server = makeLeaf(join(dir, 'server'), 'rest', 'localhost', 'DNS:localhost,IP:127.0.0.1', ca);
    client = makeLeaf(join(dir, 'pki'), 'ci-client', 'ci', 'DNS:ci.test', clientCa);
    strangerClient = makeLeaf(join(dir, 'pki'), 'stranger', 'stranger', 'DNS:stranger.test', otherCa);
    for (const pem of [ca, otherCa, clientCa, server, client, strangerClient]) keyTexts.push(readFileSync(pem.key, 'utf8'));
    tokensFile = join(dir, 'tokens.json');
    token = writeAdminToken(tokensFile);
    tls = await startCp('tls', ['--http-tls-cert', server.cert, '--http-tls-key', server.key]);
    mtls = await startCp('mtls', ['--http-tls-cert', server.cert, '--http-tls-key', server.key, '--http-client-ca', clientCa.cert]);
  });

  after(async () => {
    for (const p of procs) await p.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('the ready line shows https://; spookyctl trusts the server with --ca-file (or SPOOKY_CA_FILE)', async () => {
    assert.match(tls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    assert.match(mtls.url, /^https:\/\/127\.0\.0\.1:\d+$/);
    const run = await expectExit(['history', '--server', tls.url, '--ca-file', ca.cert], 0);
    assert.match(run.stdout, /no generations/);
    await expectExit(['status', '--json'], 0, { SPOOKY_SERVER: tls.url, SPOOKY_CA_FILE: ca.cert });
  });

  test('without --ca-file (system roots only) or with another CA, spookyctl exits 1 naming the cause', async () => {
    const bare = await expectExit(['history', '--server', tls.url], 1);
    assert.match(bare.stderr, new RegExp(`^error: TLS: certificate of ${tls.url.replaceAll('.', '\\.')} is not trusted \\([A-Z_]+\\); pass --ca-file`));
    const json = await expectExit(['history', '--server', tls.url, '--json'], 1);
    const parsed = JSON.parse(json.stdout) as { error: { code: string; message: string; status: null }; exitCode: number };
    assert.equal(parsed.error.code, 'tls_untrusted');
    assert.equal(parsed.exitCode, 1);
    assert.equal(parsed.error.status, null);
    assert.equal(json.stderr, '', '--json: the error is the one document on stdout');
    const wrong = await expectExit(['history', '--server', tls.url, '--ca-file', otherCa.cert], 1);
    assert.match(wrong.stderr, /TLS: certificate of https:\/\/127\.0\.0\.1:\d+ is not signed by the CA in --ca-file .*other-ca\.crt/);
    const plain = await expectExit(['history', '--server', tls.url.replace('https:', 'http:')], 1);
    assert.match(plain.stderr, /cannot reach http:\/\/127\.0\.0\.1:\d+/);
  });

  test('a certificate for another name: exit 1, the hostname named', async () => {
    const elsewhere = makeLeaf(join(dir, 'pki'), 'elsewhere', 'elsewhere.test', 'DNS:elsewhere.test', ca);
    const other: Server = createHttpsServer({ cert: readFileSync(elsewhere.cert), key: readFileSync(elsewhere.key) }, (_req, res) => res.end('{}'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `https://127.0.0.1:${(other.address() as { port: number }).port}`;
      const run = await expectExit(['history', '--server', url, '--ca-file', ca.cert, '--json'], 1);
      const parsed = JSON.parse(run.stdout) as { error: { code: string; message: string } };
      assert.equal(parsed.error.code, 'tls_hostname');
      assert.match(parsed.error.message, /^TLS: certificate of https:\/\/127\.0\.0\.1:\d+ is not valid for 127\.0\.0\.1/);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  test('mTLS: a connection without a client certificate is refused in the handshake, even with a valid token', async () => {
    const port = Number(new URL(mtls.url).port);
    const outcome = await new Promise<{ error: string | null; data: string }>((resolve) => {
      const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(ca.cert), servername: 'localhost' });
      let data = '';
      const timer = setTimeout(() => {
        socket.destroy();
        resolve({ error: 'no outcome within 10 s', data });
      }, 10_000);
      socket.once('secureConnect', () => socket.write(`GET /v1/scopes/default/active HTTP/1.1\r\nhost: localhost\r\nauthorization: Bearer ${token}\r\n\r\n`));
      socket.on('data', (d: Buffer) => (data += d.toString()));
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        resolve({ error: err.code ?? err.message, data });
      });
      socket.once('close', () => {
        clearTimeout(timer);
        resolve({ error: null, data });
      });
    });
    assert.equal(outcome.error, 'ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED');
    assert.equal(outcome.data, '', 'no HTTP byte came back');

    const refused = await expectExit(['history', '--server', mtls.url, '--ca-file', ca.cert], 1);
    assert.match(refused.stderr, /TLS: https:\/\/127\.0\.0\.1:\d+ refused the handshake \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\): it requires a client certificate; pass --cert FILE --key FILE/);
    const stranger = await expectExit(['history', '--server', mtls.url, '--ca-file', ca.cert, '--cert', strangerClient.cert, '--key', strangerClient.key, '--json'], 1);
    const parsed = JSON.parse(stranger.stdout) as { error: { code: string; message: string } };
    assert.equal(parsed.error.code, 'tls_client_cert');
    // node's TLS server sends no alert for a certificate it cannot verify: it closes the connection after the handshake.
    assert.match(parsed.error.message, /not accept the client certificate of --cert .*stranger\.crt/);
  });

  test('mTLS: spookyctl with --cert/--key (or SPOOKY_CLIENT_CERT/_KEY) succeeds; the token is still required', async () => {
    await expectExit(['history', '--server', mtls.url, '--ca-file', ca.cert, '--cert', client.cert, '--key', client.key], 0);
    await expectExit(['status'], 0, { SPOOKY_SERVER: mtls.url, SPOOKY_CA_FILE: ca.cert, SPOOKY_CLIENT_CERT: client.cert, SPOOKY_CLIENT_KEY: client.key });
    const noToken = await expectExit(['history', '--server', mtls.url, '--ca-file', ca.cert, '--cert', client.cert, '--key', client.key], 7, { SPOOKY_TOKEN: '' });
    assert.match(noToken.stderr, /401/);
    const wrongKey = await expectExit(['history', '--server', mtls.url, '--ca-file', ca.cert, '--cert', client.cert, '--key', strangerClient.key], 1);
    assert.match(wrongKey.stderr, /^error: --key does not match the certificate of --cert /);
  });

  test('a plaintext REST bind on a non-loopback host exits 1 before binding or opening anything', async () => {
    const db = join(dir, 'wildcard.db');
    const proc = new SpawnedProcess('cp-wildcard', CONTROL_PLANE_MAIN, ['--db', db, '--http', '0.0.0.0:0', '--grpc', '127.0.0.1:0', '--tokens', tokensFile]);
    procs.push(proc);
    assert.equal(await withinSeconds(proc.exited, 20), 1);
    assert.match(proc.stderr.join('\n'), /startup failed: --http host 0\.0\.0\.0 is not loopback .*pass --http-tls-cert FILE --http-tls-key FILE, or --allow-insecure-http/);
    assert.deepEqual(proc.lines, [], 'nothing was logged: no listener, no store');
    assert.equal(existsSync(db), false, 'the database was not even opened');

    const missingKey = join(dir, 'server', `missing-${process.pid}.key`);
    const bad = new SpawnedProcess('cp-bad-key', CONTROL_PLANE_MAIN, [
      '--db', join(dir, 'bad.db'), '--http', '127.0.0.1:0', '--grpc', '127.0.0.1:0', '--tokens', tokensFile,
      '--http-tls-cert', server.cert, '--http-tls-key', missingKey,
    ]);
    procs.push(bad);
    assert.equal(await withinSeconds(bad.exited, 20), 1);
    assert.match(bad.stderr.join('\n'), /startup failed: --http-tls-key: cannot read the file \(ENOENT\)/);
    assert.ok(!bad.stderr.join('\n').includes(missingKey), 'the key path is not printed');
  });

  test('reload: new handshakes get the replaced certificate, an open keep-alive connection keeps working; a bad pair is refused', async () => {
    const trust = readFileSync(ca.cert);
    const before = fingerprintOf(server.cert);
    const keepAlive = new Agent({ keepAlive: true, maxSockets: 1, ca: trust });
    const first = await get(tls.url, keepAlive);
    assert.equal(first.status, 200);
    assert.equal(first.fingerprint, before);

    const from = tls.proc.lines.length;
    // A certificate manager renews: new key and certificate renamed over the old files.
    makeLeaf(join(dir, 'server'), 'rest', 'localhost', 'DNS:localhost,IP:127.0.0.1', ca, '/O=renewed');
    keyTexts.push(readFileSync(server.key, 'utf8'));
    const renewed = fingerprintOf(server.cert);
    assert.notEqual(renewed, before);
    const reloaded = await tls.proc.waitForLog((l) => l.msg?.startsWith('http tls reloaded') === true && l['fingerprint256'] === renewed, 15_000, from);
    assert.match(String(reloaded['subject']), /O=renewed/);

    const fresh = new Agent({ keepAlive: false, ca: trust });
    const next = await get(tls.url, fresh);
    assert.equal(next.status, 200);
    assert.equal(next.fingerprint, renewed, 'a new handshake gets the new certificate');
    const again = await get(tls.url, keepAlive);
    assert.equal(again.status, 200);
    assert.equal(again.localPort, first.localPort, 'the same keep-alive connection answered');
    assert.equal(again.fingerprint, before, 'still on the session it negotiated');
    await expectExit(['history', '--server', tls.url, '--ca-file', ca.cert], 0);

    // A key that does not match the certificate: refused, the renewed pair keeps serving.
    const refusedFrom = tls.proc.lines.length;
    copyFileSync(otherCa.key, server.key);
    const refused = await tls.proc.waitForLog((l) => l.msg?.startsWith('http tls reload refused') === true, 15_000, refusedFrom);
    assert.match(String(refused['reason']), /--http-tls-key does not match the certificate/);
    const still = await get(tls.url, new Agent({ keepAlive: false, ca: trust }));
    assert.equal(still.status, 200);
    assert.equal(still.fingerprint, renewed);
    keepAlive.destroy();
  });

  test('no token, no private key text and no key path in any answer, log line or spookyctl output', () => {
    const everything = [...shown, ...procs.flatMap((p) => [...p.lines.map((l) => JSON.stringify(l)), ...p.stderr])].join('\n');
    assert.ok(everything.includes('control plane ready'), 'the logs were collected');
    assert.ok(!everything.includes(token), 'the token leaked');
    for (const text of keyTexts) {
      const lines = text.split('\n').filter((l) => l.length > 20 && !l.startsWith('-----'));
      assert.ok(lines.length > 0);
      for (const line of lines) assert.ok(!everything.includes(line), 'private key material leaked');
    }
    assert.ok(!everything.includes('PRIVATE KEY'));
    for (const path of [server.key, client.key, strangerClient.key]) assert.ok(!everything.includes(path), `${path} leaked`);
  });
});

function withinSeconds<T>(promise: Promise<T>, seconds: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not within ${seconds} s`)), seconds * 1000);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
