import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseHttpTransport } from './http-tls-settings.ts';
import { parseSettings } from './settings.ts';

const BASE = ['--db', 'cp.db', '--grpc', '127.0.0.1:0', '--tokens', 't.json'];

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

describe('REST transport settings', () => {
  it('plaintext on loopback is allowed without any flag', () => {
    for (const http of ['127.0.0.1:0', '[::1]:8080', 'localhost:8080']) {
      const s = parseSettings([...BASE, '--http', http], {});
      assert.equal(s.httpTls, null);
      assert.equal(s.allowInsecureHttp, false);
    }
  });

  it('plaintext on a non-loopback host is refused, naming the flags to pass', () => {
    for (const http of ['0.0.0.0:8080', '[::]:8080', '10.1.2.3:0', 'cp.example.com:443']) {
      refused(['--http', http], [/not loopback/, /--http-tls-cert FILE --http-tls-key FILE/, /--allow-insecure-http/]);
    }
    // The pure function alone, for the wildcard addresses.
    assert.throws(() => parseHttpTransport({}, new Set(), '0.0.0.0'), { code: 'settings_invalid' });
    assert.throws(() => parseHttpTransport({}, new Set(), '::'), { code: 'settings_invalid' });
  });

  it('--allow-insecure-http (or SPOOKY_CP_ALLOW_INSECURE_HTTP) lets plaintext bind anywhere', () => {
    const flag = parseSettings([...BASE, '--http', '0.0.0.0:8080', '--allow-insecure-http'], {});
    assert.equal(flag.httpTls, null);
    assert.equal(flag.allowInsecureHttp, true);
    assert.equal(parseSettings([...BASE, '--http', '[::]:0'], { SPOOKY_CP_ALLOW_INSECURE_HTTP: '1' }).allowInsecureHttp, true);
    assert.equal(parseSettings([...BASE, '--http', '[::]:0'], { SPOOKY_CP_ALLOW_INSECURE_HTTP: 'true' }).allowInsecureHttp, true);
    refused(['--http', '[::]:0'], [/not loopback/], { SPOOKY_CP_ALLOW_INSECURE_HTTP: '0' });
    refused(['--http', '127.0.0.1:0'], [/SPOOKY_CP_ALLOW_INSECURE_HTTP must be/], { SPOOKY_CP_ALLOW_INSECURE_HTTP: 'yes' });
  });

  it('TLS flags: both files, from flags or env; the client CA for mTLS; any host', () => {
    const s = parseSettings([...BASE, '--http', '0.0.0.0:8443', '--http-tls-cert', 'c.pem', '--http-tls-key', 'k.pem'], {});
    assert.deepEqual(s.httpTls, { certFile: 'c.pem', keyFile: 'k.pem', clientCaFile: null });
    const env = parseSettings([...BASE, '--http', '[::]:8443'], {
      SPOOKY_CP_HTTP_TLS_CERT: 'ec.pem',
      SPOOKY_CP_HTTP_TLS_KEY: 'ek.pem',
      SPOOKY_CP_HTTP_CLIENT_CA: 'ca.pem',
    });
    assert.deepEqual(env.httpTls, { certFile: 'ec.pem', keyFile: 'ek.pem', clientCaFile: 'ca.pem' });
    const flagWins = parseSettings([...BASE, '--http', '127.0.0.1:0', '--http-tls-cert', 'f.pem', '--http-tls-key', 'fk.pem'], {
      SPOOKY_CP_HTTP_TLS_CERT: 'ec.pem',
    });
    assert.equal(flagWins.httpTls?.certFile, 'f.pem');
  });

  it('incomplete TLS flags are refused, each error naming the missing flag', () => {
    refused(['--http', '127.0.0.1:0', '--http-tls-cert', 'c.pem'], [/^--http-tls-cert needs --http-tls-key FILE/]);
    refused(['--http', '127.0.0.1:0', '--http-tls-key', 'k.pem'], [/^--http-tls-key needs --http-tls-cert FILE/]);
    refused(['--http', '127.0.0.1:0', '--http-client-ca', 'ca.pem'], [/^--http-client-ca needs --http-tls-cert FILE --http-tls-key FILE/]);
    refused(['--http', '127.0.0.1:0'], [/^SPOOKY_CP_HTTP_TLS_CERT needs --http-tls-key FILE/], { SPOOKY_CP_HTTP_TLS_CERT: 'c.pem' });
    refused(['--http', '127.0.0.1:0', '--http-tls-cert'], [/--http-tls-cert/]);
  });
});
