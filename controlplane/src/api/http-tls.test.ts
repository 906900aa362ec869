import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect, type TLSSocket } from 'node:tls';
import { createLogger } from '../observability/logger.ts';
import type { HttpTlsFiles } from '../settings/http-tls-settings.ts';
import { filesStamp, httpsServerOptions, loadHttpTls, watchHttpTls } from './http-tls.ts';

const dir = mkdtempSync(join(tmpdir(), 'spooky-http-tls-'));

/** A self-signed P-256 certificate for 127.0.0.1 in `<name>.crt` / `<name>.key` (system openssl). */
function selfSigned(name: string, cn: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', key, '-out', cert], { stdio: 'ignore' });
  return { cert, key };
}

/** The certificate a new TLS connection to `port` is served. */
function servedFingerprint(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: TLSSocket = connect({ host: '127.0.0.1', port, rejectUnauthorized: false }, () => {
      resolve(socket.getPeerCertificate().fingerprint256);
      socket.destroy();
    });
    socket.once('error', reject);
    socket.setTimeout(5000, () => socket.destroy(new Error('no handshake within 5 s')));
  });
}

const fingerprintOf = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;

describe('REST TLS material', () => {
  let a: { cert: string; key: string };
  let b: { cert: string; key: string };
  before(() => {
    a = selfSigned('a', 'first');
    b = selfSigned('b', 'second');
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('loads a matching pair, with or without a client CA', () => {
    const material = loadHttpTls({ certFile: a.cert, keyFile: a.key, clientCaFile: null });
    assert.equal(material.certificate.subject, 'CN=first');
    assert.equal(material.certificate.fingerprint256, fingerprintOf(a.cert));
    assert.equal(material.context.ca, undefined);
    const files: HttpTlsFiles = { certFile: a.cert, keyFile: a.key, clientCaFile: b.cert };
    const mtls = httpsServerOptions(loadHttpTls(files), files);
    assert.equal(mtls.requestCert, true);
    assert.equal(mtls.rejectUnauthorized, true);
    assert.ok(mtls.ca);
  });

  it('refuses unusable files naming the flag, never with key text or the key path', () => {
    const keyText = readFileSync(a.key, 'utf8');
    const notPem = join(dir, 'not.pem');
    writeFileSync(notPem, 'hello\n');
    const cases: [HttpTlsFiles, RegExp][] = [
      [{ certFile: a.cert, keyFile: b.key, clientCaFile: null }, /^--http-tls-key does not match the certificate of --http-tls-cert /],
      [{ certFile: notPem, keyFile: a.key, clientCaFile: null }, /^--http-tls-cert .*not\.pem holds no PEM certificate$/],
      [{ certFile: a.cert, keyFile: notPem, clientCaFile: null }, /^--http-tls-key holds no usable private key/],
      [{ certFile: a.cert, keyFile: join(dir, 'missing.key'), clientCaFile: null }, /^--http-tls-key: cannot read the file \(ENOENT\)$/],
      [{ certFile: a.cert, keyFile: a.key, clientCaFile: notPem }, /^--http-client-ca .*not\.pem holds no PEM certificate$/],
    ];
    for (const [files, pattern] of cases) {
      assert.throws(
        () => loadHttpTls(files),
        (err: unknown) => {
          const e = err as { code?: string; message: string };
          assert.equal(e.code, 'settings_invalid');
          assert.match(e.message, pattern);
          assert.ok(!e.message.includes(files.keyFile), 'no key path');
          for (const line of keyText.split('\n').filter((l) => l.length > 20)) assert.ok(!e.message.includes(line), 'no key text');
          return true;
        },
      );
    }
  });

  it('reload: a half-swapped pair is refused and the old certificate serves; the completed pair is taken', async () => {
    const certFile = join(dir, 'live.crt');
    const keyFile = join(dir, 'live.key');
    copyFileSync(a.cert, certFile);
    copyFileSync(a.key, keyFile);
    const files: HttpTlsFiles = { certFile, keyFile, clientCaFile: null };
    const stamp = filesStamp(files);
    const lines: Record<string, unknown>[] = [];
    const waiters: (() => void)[] = [];
    const destination = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n').filter((x) => x !== '')) lines.push(JSON.parse(l) as Record<string, unknown>);
        for (const w of waiters.splice(0)) w();
        done();
      },
    });
    const logger = createLogger({ level: 'info', destination });
    const waitFor = async (msg: string, from: number): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 10_000;
      for (;;) {
        const hit = lines.slice(from).find((l) => String(l['msg']).startsWith(msg));
        if (hit) return hit;
        assert.ok(Date.now() < deadline, `no "${msg}" log line within 10 s: ${JSON.stringify(lines)}`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, 200);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    };
    const server: Server = createServer(httpsServerOptions(loadHttpTls(files), files), (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as { port: number }).port;
    const watch = watchHttpTls(server, files, stamp, logger, 50);
    try {
      assert.equal(await servedFingerprint(port), fingerprintOf(a.cert));
      // Half a swap: the new key is in place, the certificate not yet.
      const from = lines.length;
      copyFileSync(b.key, `${keyFile}.tmp`);
      renameSync(`${keyFile}.tmp`, keyFile);
      const refused = await waitFor('http tls reload refused', from);
      assert.match(String(refused['reason']), /does not match/);
      assert.equal(await servedFingerprint(port), fingerprintOf(a.cert), 'the old pair keeps serving');
      const next = lines.length;
      copyFileSync(b.cert, `${certFile}.tmp`);
      renameSync(`${certFile}.tmp`, certFile);
      const reloaded = await waitFor('http tls reloaded', next);
      assert.equal(reloaded['fingerprint256'], fingerprintOf(b.cert));
      assert.equal(await servedFingerprint(port), fingerprintOf(b.cert));
      const logged = JSON.stringify(lines);
      assert.ok(!logged.includes('PRIVATE KEY') && !logged.includes(keyFile), 'no key text or key path logged');
    } finally {
      watch.stop();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
