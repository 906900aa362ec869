import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connect, createServer, type TLSSocket } from 'node:tls';
import { runCli } from '../run-cli.ts';
import { extensionsFor, nodeIdentityUri, parseSans } from './pki-profiles.ts';

const root = mkdtempSync(join(tmpdir(), 'spooky-pki-'));
after(() => rmSync(root, { recursive: true, force: true }));

const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

/** spookyctl in process with a captured stdout/stderr. */
async function ctl(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runCli(argv, env, { out: (t) => (out += t), err: (t) => (err += t) });
  return { code, out, err };
}

const x509 = (file: string) => new X509Certificate(readFileSync(file));
const mode = (file: string) => statSync(file).mode & 0o777;

/** The base64 body of a PEM key: what must never appear in any output. */
const keyBody = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '' && !l.startsWith('-----')).join('');

describe('spookyctl pki', () => {
  const dir = join(root, 'pki');

  it('init-ca: a self-signed CA that signs leaves only; key 0600, never printed', async () => {
    const r = await ctl(['pki', 'init-ca', '--dir', dir]);
    assert.equal(r.code, 0, r.err);
    const ca = x509(join(dir, 'ca.crt'));
    assert.equal(ca.ca, true);
    assert.equal(ca.subject, 'CN=Spooky dev CA');
    assert.ok(ca.verify(ca.publicKey), 'self-signed');
    assert.equal(mode(join(dir, 'ca.key')), 0o600);
    assert.equal(mode(dir), 0o700);
    assert.ok(!r.out.includes(keyBody(join(dir, 'ca.key'))) && !r.out.includes('PRIVATE KEY'));
    assert.match(r.out, new RegExp(ca.fingerprint256));
  });

  it('server: serverAuth, default loopback SANs or the given ones, signed by the CA', async () => {
    const r = await ctl(['pki', 'server', '--dir', dir, '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out) as { cert: string; key: string; subjectAltName: string };
    assert.equal(doc.cert, join(dir, 'cp.crt'));
    const cert = x509(doc.cert);
    assert.equal(cert.subjectAltName, 'DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    assert.deepEqual(cert.keyUsage, [SERVER_AUTH]);
    assert.equal(cert.ca, false);
    assert.ok(cert.verify(x509(join(dir, 'ca.crt')).publicKey), 'signed by the CA');
    assert.equal(mode(doc.key), 0o600);
    assert.ok(!r.out.includes(keyBody(doc.key)));
    const named = await ctl(['pki', 'server', '--dir', dir, '--name', 'cp-eu', '--san', 'DNS:cp.example.test,IP:10.0.0.7']);
    assert.equal(named.code, 0, named.err);
    assert.equal(x509(join(dir, 'cp-eu.crt')).subjectAltName, 'DNS:cp.example.test, IP Address:10.0.0.7');
  });

  it('node: clientAuth with exactly the SAN URI spiffe://spooky/scope/<S>/node/<N>', async () => {
    const r = await ctl(['pki', 'node', '--dir', dir, '--scope', 'prod-eu', '--node-id', 'edge-1']);
    assert.equal(r.code, 0, r.err);
    const cert = x509(join(dir, 'node-prod-eu-edge-1.crt'));
    assert.equal(cert.subjectAltName, 'URI:spiffe://spooky/scope/prod-eu/node/edge-1');
    assert.equal(cert.subject, 'CN=edge-1');
    assert.deepEqual(cert.keyUsage, [CLIENT_AUTH]);
    assert.ok(cert.checkIssued(x509(join(dir, 'ca.crt'))) && cert.verify(x509(join(dir, 'ca.crt')).publicKey));
    assert.equal(mode(join(dir, 'node-prod-eu-edge-1.key')), 0o600);
    // The scope also comes from SPOOKY_SCOPE, like every other command's.
    assert.equal((await ctl(['pki', 'node', '--dir', dir, '--node-id', 'edge-2'], { SPOOKY_SCOPE: 'staging' })).code, 0);
    assert.equal(x509(join(dir, 'node-staging-edge-2.crt')).subjectAltName, 'URI:spiffe://spooky/scope/staging/node/edge-2');
  });

  it('the certificates work in a real mutual-TLS handshake (server verifies the node, node verifies the server)', async () => {
    const file = (n: string) => readFileSync(join(dir, n));
    const server = createServer({ cert: file('cp.crt'), key: file('cp.key'), ca: file('ca.crt'), requestCert: true, rejectUnauthorized: true }, (s) => {
      s.end(`hello ${(s.getPeerCertificate() as { subjectaltname?: string }).subjectaltname}`);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const port = (server.address() as { port: number }).port;
      const socket: TLSSocket = connect({ host: '127.0.0.1', port, servername: 'localhost', ca: file('ca.crt'), cert: file('node-prod-eu-edge-1.crt'), key: file('node-prod-eu-edge-1.key') });
      let body = '';
      socket.on('data', (d: Buffer) => (body += d.toString()));
      await once(socket, 'end');
      assert.equal(socket.authorized, true, String(socket.authorizationError));
      assert.equal(body, 'hello URI:spiffe://spooky/scope/prod-eu/node/edge-1');
      socket.destroy();
    } finally {
      server.close();
    }
  });

  it('client: clientAuth for REST mTLS callers; needs --name', async () => {
    assert.equal((await ctl(['pki', 'client', '--dir', dir, '--name', 'ci'])).code, 0);
    assert.deepEqual(x509(join(dir, 'ci.crt')).keyUsage, [CLIENT_AUTH]);
    const missing = await ctl(['pki', 'client', '--dir', dir]);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /pki client needs --name/);
  });

  it('refuses to overwrite without --force; --force issues a new pair', async () => {
    const before = x509(join(dir, 'cp.crt')).fingerprint256;
    const refused = await ctl(['pki', 'server', '--dir', dir, '--json']);
    assert.equal(refused.code, 1);
    assert.equal((JSON.parse(refused.out) as { error: { code: string } }).error.code, 'pki_exists');
    assert.equal(x509(join(dir, 'cp.crt')).fingerprint256, before, 'untouched');
    assert.equal((await ctl(['pki', 'server', '--dir', dir, '--force'])).code, 0);
    assert.notEqual(x509(join(dir, 'cp.crt')).fingerprint256, before);
    assert.equal((await ctl(['pki', 'init-ca', '--dir', dir])).code, 1);
  });

  it('a missing CA and a missing openssl are clear errors (exit 1)', async () => {
    const noCa = await ctl(['pki', 'node', '--dir', join(root, 'empty'), '--node-id', 'n1', '--json']);
    assert.equal(noCa.code, 1);
    const err = (JSON.parse(noCa.out) as { error: { code: string; message: string } }).error;
    assert.equal(err.code, 'pki_no_ca');
    assert.match(err.message, /run spookyctl pki init-ca --dir /);
    const path = process.env['PATH'];
    process.env['PATH'] = join(root, 'no-bin');
    try {
      const r = await ctl(['pki', 'init-ca', '--dir', join(root, 'no-openssl')]);
      assert.equal(r.code, 1);
      assert.match(r.err, /openssl is not on PATH/);
    } finally {
      process.env['PATH'] = path;
    }
  });

  it('usage errors: bad names, SANs, days, flags of another subcommand', async () => {
    for (const argv of [
      ['pki', 'node', '--dir', dir, '--node-id', 'a/b'],
      ['pki', 'node', '--dir', dir],
      ['pki', 'server', '--dir', dir, '--san', 'DNS:ok,subjectAltName=evil'],
      ['pki', 'server', '--dir', dir, '--days', '0'],
      ['pki', 'init-ca', '--dir', dir, '--name', 'x'],
      ['pki', 'server', '--name', 'x'],
      ['pki', 'nope', '--dir', dir],
    ]) {
      const r = await ctl(argv);
      assert.equal(r.code, 1, argv.join(' '));
      assert.match(r.err, /^error: /, argv.join(' '));
    }
  });
});

describe('pki profiles (pure)', () => {
  it('node identity URI and SAN parsing', () => {
    assert.equal(nodeIdentityUri('default', 'edge-1'), 'spiffe://spooky/scope/default/node/edge-1');
    assert.throws(() => nodeIdentityUri('Prod', 'edge-1'), /--scope/);
    assert.deepEqual(parseSans('dns:a.test, IP:::1,URI:spiffe://x/y'), ['DNS:a.test', 'IP:::1', 'URI:spiffe://x/y']);
    for (const bad of ['', 'a.test', 'DNS:a\nb', 'IP:300.1.1.1', 'EMAIL:a@b', 'DNS:-bad']) assert.throws(() => parseSans(bad), /--san/, bad);
  });

  it('extensions: CA signs only; leaves carry their EKU and SANs', () => {
    assert.match(extensionsFor({ kind: 'ca', base: 'ca', commonName: 'x', sans: [], days: 1 }), /CA:TRUE, pathlen:0/);
    const node = extensionsFor({ kind: 'node', base: 'n', commonName: 'n', sans: ['URI:spiffe://spooky/scope/s/node/n'], days: 1 });
    assert.match(node, /extendedKeyUsage = clientAuth/);
    assert.match(node, /subjectAltName = URI:spiffe:\/\/spooky\/scope\/s\/node\/n/);
    assert.doesNotMatch(extensionsFor({ kind: 'client', base: 'c', commonName: 'c', sans: [], days: 1 }), /subjectAltName/);
  });
});
