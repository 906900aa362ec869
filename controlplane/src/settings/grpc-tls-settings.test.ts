import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseGrpcTransport } from './grpc-tls-settings.ts';
import { parseSettings } from './settings.ts';

const BASE = ['--db', 'cp.db', '--http', '127.0.0.1:0', '--tokens', 't.json'];
const TLS = ['--grpc-tls-cert', 'c.pem', '--grpc-tls-key', 'k.pem', '--grpc-client-ca', 'ca.pem'];

/** Asserts parseSettings refuses `argv` (+ env) with settings_invalid and a one-line message matching every pattern. */
function refused(argv: string[], patterns: RegExp[], env: Record<string, string> = {}): void {
  assert.throws(
    () => parseSettings([...BASE, ...argv], env),
    (err: unknown) => {
      const e = err as { code?: string; message?: string };
      assert.equal(e.code, 'settings_invalid');
      assert.ok(!String(e.message).includes('\n'), 'one line');
      for (const p of patterns) assert.match(String(e.message), p);
      return true;
    },
  );
}

describe('gRPC transport settings', () => {
  it('plaintext on loopback is allowed without any flag', () => {
    for (const grpc of ['127.0.0.1:0', '[::1]:7000', 'localhost:7000']) {
      const s = parseSettings([...BASE, '--grpc', grpc], {});
      assert.equal(s.grpcTls, null);
      assert.equal(s.allowInsecureGrpc, false);
    }
  });

  it('plaintext on a non-loopback host is refused, naming the flags to pass', () => {
    for (const grpc of ['0.0.0.0:7000', '[::]:7000', '10.1.2.3:0', 'cp.example.com:7000']) {
      refused(['--grpc', grpc], [/--grpc host .* is not loopback/, /--grpc-tls-cert FILE --grpc-tls-key FILE --grpc-client-ca FILE/, /--allow-insecure-grpc/]);
    }
    assert.throws(() => parseGrpcTransport({}, new Set(), '0.0.0.0'), { code: 'settings_invalid' });
  });

  it('--allow-insecure-grpc (or SPOOKY_CP_ALLOW_INSECURE_GRPC) lets plaintext bind anywhere', () => {
    const flag = parseSettings([...BASE, '--grpc', '0.0.0.0:7000', '--allow-insecure-grpc'], {});
    assert.equal(flag.grpcTls, null);
    assert.equal(flag.allowInsecureGrpc, true);
    assert.equal(parseSettings([...BASE, '--grpc', '[::]:0'], { SPOOKY_CP_ALLOW_INSECURE_GRPC: '1' }).allowInsecureGrpc, true);
    refused(['--grpc', '[::]:0'], [/not loopback/], { SPOOKY_CP_ALLOW_INSECURE_GRPC: '0' });
    refused(['--grpc', '127.0.0.1:0'], [/SPOOKY_CP_ALLOW_INSECURE_GRPC must be/], { SPOOKY_CP_ALLOW_INSECURE_GRPC: 'yes' });
  });

  it('TLS: all three files, from flags or env (flags win), on any host', () => {
    const s = parseSettings([...BASE, '--grpc', '0.0.0.0:7443', ...TLS], {});
    assert.deepEqual(s.grpcTls, { certFile: 'c.pem', keyFile: 'k.pem', clientCaFile: 'ca.pem' });
    const env = parseSettings([...BASE, '--grpc', '[::]:7443', '--grpc-tls-cert', 'f.pem'], {
      SPOOKY_CP_GRPC_TLS_CERT: 'ec.pem',
      SPOOKY_CP_GRPC_TLS_KEY: 'ek.pem',
      SPOOKY_CP_GRPC_CLIENT_CA: 'eca.pem',
    });
    assert.deepEqual(env.grpcTls, { certFile: 'f.pem', keyFile: 'ek.pem', clientCaFile: 'eca.pem' });
  });

  it('all or none: an incomplete set is refused, naming what is missing (the client CA is mandatory)', () => {
    refused(['--grpc', '127.0.0.1:0', '--grpc-tls-cert', 'c.pem', '--grpc-tls-key', 'k.pem'], [/^--grpc-tls-cert and --grpc-tls-key need --grpc-client-ca FILE \(or SPOOKY_CP_GRPC_CLIENT_CA\)/, /mutual/]);
    refused(['--grpc', '127.0.0.1:0', '--grpc-client-ca', 'ca.pem'], [/^--grpc-client-ca needs --grpc-tls-cert FILE .* and --grpc-tls-key FILE/]);
    refused(['--grpc', '127.0.0.1:0'], [/^SPOOKY_CP_GRPC_TLS_KEY needs --grpc-tls-cert FILE .* and --grpc-client-ca FILE/], { SPOOKY_CP_GRPC_TLS_KEY: 'k.pem' });
  });
});
