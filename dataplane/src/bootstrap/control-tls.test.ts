import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { makeCa, makeLeaf } from '../../../test/src/harness/pki.ts';
import { controlTlsReader, decideControlTls, loadControlTls } from './control-tls.ts';
import { parseFlags } from './flags.ts';

const base = (cp: string): string[] => ['--control-plane', cp, '--node-id', 'n1', '--scope', 'prod', '--cache-dir', '/tmp/c', '--admin', '127.0.0.1:0'];
const TLS = ['--ca-file', 'ca.pem', '--cert', 'n1.crt', '--key', 'n1.key'];

describe('control-plane transport of the data plane', () => {
  it('loopback: plaintext without flags; anything else is not loopback', () => {
    const r = parseFlags(base('127.0.0.1:7000'), 1);
    assert.ok(r.ok && r.settings.mode === 'control-plane');
    assert.equal(r.settings.controlTls, null);
  });

  it('a non-loopback control plane without the files refuses to start, saying what to pass', () => {
    for (const cp of ['10.0.0.5:7000', 'cp.example.com:7443', '[2001:db8::1]:7000']) {
      const r = parseFlags(base(cp), 1);
      assert.ok(!r.ok);
      assert.match(r.error, /is not loopback: pass --ca-file FILE .* --cert FILE --key FILE/);
      assert.match(r.error, /spiffe:\/\/spooky\/scope\/<scope>\/node\/<node-id>/);
      assert.match(r.error, /--allow-insecure-grpc/);
    }
    const allowed = parseFlags([...base('10.0.0.5:7000'), '--allow-insecure-grpc'], 1);
    assert.ok(allowed.ok && allowed.settings.mode === 'control-plane' && allowed.settings.controlTls === null);
    assert.equal(decideControlTls({}, { SPOOKY_DP_ALLOW_INSECURE_GRPC: '1' }, '10.0.0.5').ok, true);
    assert.equal(decideControlTls({}, { SPOOKY_DP_ALLOW_INSECURE_GRPC: '0' }, '10.0.0.5').ok, false);
    const bad = decideControlTls({}, { SPOOKY_DP_ALLOW_INSECURE_GRPC: 'yes' }, '127.0.0.1');
    assert.ok(!bad.ok && /SPOOKY_DP_ALLOW_INSECURE_GRPC must be/.test(bad.error));
  });

  it('the three files from flags or env (flags win) turn TLS on for any host', () => {
    const r = parseFlags([...base('cp.example.com:7443'), ...TLS], 1);
    assert.ok(r.ok && r.settings.mode === 'control-plane');
    assert.deepEqual(r.settings.controlTls, { caFile: 'ca.pem', certFile: 'n1.crt', keyFile: 'n1.key' });
    const env = parseFlags([...base('10.0.0.5:7000'), '--cert', 'flag.crt'], 1, { SPOOKY_DP_CA_FILE: 'e-ca.pem', SPOOKY_DP_CERT: 'e.crt', SPOOKY_DP_KEY: 'e.key' });
    assert.ok(env.ok && env.settings.mode === 'control-plane');
    assert.deepEqual(env.settings.controlTls, { caFile: 'e-ca.pem', certFile: 'flag.crt', keyFile: 'e.key' });
  });

  it('all or none: a partial set is refused naming what is missing; standalone takes none', () => {
    const r = parseFlags([...base('127.0.0.1:7000'), '--cert', 'n1.crt', '--key', 'n1.key'], 1);
    assert.ok(!r.ok);
    assert.match(r.error, /^--cert and --key need --ca-file FILE \(or SPOOKY_DP_CA_FILE\)/);
    const one = parseFlags([...base('127.0.0.1:7000'), '--ca-file', 'ca.pem'], 1);
    assert.ok(!one.ok);
    assert.match(one.error, /^--ca-file needs --cert FILE .* and --key FILE/);
    const standalone = parseFlags(['--config', 'x.yaml', '--admin', '127.0.0.1:0', '--cert', 'n1.crt'], 1);
    assert.ok(!standalone.ok);
    assert.match(standalone.error, /cannot be combined with .*--cert/);
  });

  it('loadControlTls reads and checks the files; a failure names the flag, never the key path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-control-tls-'));
    try {
      const ca = makeCa(dir, 'ca');
      const n1 = makeLeaf(dir, 'n1', 'n1', 'URI:spiffe://spooky/scope/prod/node/n1', ca);
      const n2 = makeLeaf(dir, 'n2', 'n2', 'URI:spiffe://spooky/scope/prod/node/n2', ca);
      const files = { caFile: ca.cert, certFile: n1.cert, keyFile: n1.key };
      const m = loadControlTls(files);
      assert.equal(m.key.toString(), readFileSync(n1.key, 'utf8'));
      const secretPath = join(dir, 'secret-key-location.key');
      assert.throws(
        () => loadControlTls({ ...files, keyFile: secretPath }),
        (err: Error) => /^--key: cannot read the file \(ENOENT\)$/.test(err.message) && !err.message.includes('secret-key-location'),
      );
      assert.throws(() => loadControlTls({ ...files, keyFile: n2.key }), { message: `--key does not match the certificate of --cert ${n1.cert}` });
      writeFileSync(join(dir, 'junk.pem'), 'not pem');
      assert.throws(() => loadControlTls({ ...files, certFile: join(dir, 'junk.pem') }), /not a PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('controlTlsReader re-reads before each attempt: renewed files are used, a bad set keeps the previous one (reported once)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'spooky-control-tls-'));
    try {
      const ca = makeCa(dir, 'ca');
      const v1 = makeLeaf(dir, 'node', 'v1', 'URI:spiffe://spooky/scope/prod/node/n1', ca);
      const files = { caFile: ca.cert, certFile: v1.cert, keyFile: v1.key };
      const refused: string[] = [];
      const read = controlTlsReader(files, loadControlTls(files), (r) => refused.push(r));
      const cn = (m: { cert: Buffer }): string => new X509Certificate(m.cert).subject;
      assert.equal(cn(read()), 'CN=v1');
      makeLeaf(dir, 'node', 'v2', 'URI:spiffe://spooky/scope/prod/node/n1', ca); // renewed in place
      assert.equal(cn(read()), 'CN=v2');
      const other = makeLeaf(dir, 'other', 'other', 'URI:spiffe://spooky/scope/prod/node/x', ca);
      writeFileSync(v1.key, readFileSync(other.key)); // a key not matching: keep v2
      assert.equal(cn(read()), 'CN=v2');
      assert.equal(cn(read()), 'CN=v2');
      assert.equal(refused.length, 1);
      assert.match(refused[0] ?? '', /^--key does not match/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
