/**
 * End to end: secrets never leave. Unique secret strings are planted where secrets live — the
 * API bearer token, private-key file contents and paths (a valid key and a broken one that the data plane
 * must NACK, and a broken upstream mTLS client key), a client's Authorization header — and then every API answer, every log line of
 * both planes and the NACK text are searched for them.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';

const SCOPE = 'secrets';

describe('secrets never appear in API output, logs or NACKs (real processes)', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let cp: ControlPlane;
  let dp: DataPlane;
  let port: number;
  const keySecret = `KEYSECRET${randomBytes(12).toString('hex')}`;
  const headerSecret = `HDRSECRET${randomBytes(12).toString('hex')}`;
  let realKeyLine = '';

  const config = (keyPath: string) => ({
    version: 1,
    listen: { address: '127.0.0.1', port, tls: { cert: cert.cert, key: keyPath } },
    upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'o', address: origin.url }] } },
  });

  /**
   * Every answer of the API, both admin servers and both processes' logs, once the last NACK
   * matches `nack`, joined: where a leaked secret would show.
   */
  const everythingShown = async (nack: RegExp, seqs: readonly number[]): Promise<string> => {
    let lastNack: unknown = null;
    const deadline = Date.now() + 15_000;
    while (lastNack === null || !nack.test(JSON.stringify(lastNack))) {
      const node = await cp.api<{ lastNack: unknown }>('GET', '/v1/nodes/dp-secrets');
      lastNack = node.body.lastNack ?? null;
      assert.ok(Date.now() < deadline, `no NACK matching ${nack} reached the control plane: ${JSON.stringify(lastNack)}`);
      if (lastNack === null || !nack.test(JSON.stringify(lastNack))) await new Promise((r) => setTimeout(r, 50));
    }
    const outputs: string[] = [JSON.stringify(lastNack)];
    for (const path of [
      `/v1/nodes`,
      `/v1/nodes/dp-secrets`,
      `/v1/scopes/${SCOPE}/status`,
      `/v1/scopes/${SCOPE}/generations`,
      ...seqs.map((seq) => `/v1/scopes/${SCOPE}/generations/${seq}`),
      `/v1/scopes/${SCOPE}/diff?from=${seqs[0]}&to=${seqs.at(-1)}`,
      `/v1/scopes/${SCOPE}/active`,
      `/v1/audit`,
      `/v1/events?scope=${SCOPE}&follow=false`,
      `/metrics`,
    ]) {
      const r = await cp.api('GET', path, { headers: path.startsWith('/v1/events') ? { 'last-event-id': '0' } : {} });
      assert.ok(r.status < 500, `${path} → ${r.status}`);
      outputs.push(typeof r.body === 'string' ? r.body : JSON.stringify(r.body));
    }
    const dpAdmin = await fetch(`${dp.admin}/generation`);
    outputs.push(await dpAdmin.text());
    outputs.push(await (await fetch(`${dp.admin}/metrics`)).text());
    outputs.push(...cp.proc.lines.map((l) => JSON.stringify(l)), ...cp.proc.stderr);
    outputs.push(...dp.proc.lines.map((l) => JSON.stringify(l)), ...dp.proc.stderr);
    return outputs.join('\n');
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-secrets-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    // A line of the real private key's base64 body: key material that must never be echoed.
    realKeyLine = readFileSync(cert.key, 'utf8').split('\n').find((l) => l.length > 40 && !l.startsWith('-----')) ?? '';
    assert.ok(realKeyLine.length > 40);
    origin = await startH1Origin('origin');
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 200 });
    await cp.pushAndActivate(SCOPE, config(cert.key), 'secrets: good generation');
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: 'dp-secrets', scope: SCOPE, cacheDir: join(dir, 'cache') });
    await dp.waitForApplied(1);
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('a broken key is NACKed without its contents; nothing secret shows anywhere', async () => {
    // The key file's path is a secret too (issue 7): a unique name that must never show.
    const brokenKey = join(dir, `broken-key-${randomBytes(6).toString('hex')}.pem`);
    writeFileSync(brokenKey, `-----BEGIN PRIVATE KEY-----\n${keySecret}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
    await cp.pushAndActivate(SCOPE, config(brokenKey), 'secrets: broken key');
    await dp.waitForRejected(2);

    const res = await h3Fetch(port, { path: '/with-credentials', headers: { authorization: `Bearer ${headerSecret}` } });
    assert.equal(res.status, 200, 'generation 1 keeps serving');
    assert.ok(origin.requests.some((r) => r.headers['authorization'] === `Bearer ${headerSecret}`), 'the header itself is forwarded to the origin');

    const everything = await everythingShown(/listener\.tls/, [1, 2]);
    for (const [what, secret] of [
      ['broken key contents', keySecret],
      ['real private key material', realKeyLine],
      ['client Authorization header', headerSecret],
      ['control-plane API token', cp.token],
      ['the broken key file path', brokenKey],
      ['the real key file path', cert.key],
    ] as const) {
      assert.ok(!everything.includes(secret), `${what} leaked`);
    }
  });

  test('an upstream client key (mTLS) that does not load is NACKed without its path or contents', async () => {
    const clientKey = join(dir, `upstream-client-key-${randomBytes(6).toString('hex')}.pem`);
    const clientSecret = `CLIENTKEY${randomBytes(12).toString('hex')}`;
    writeFileSync(clientKey, `-----BEGIN PRIVATE KEY-----\n${clientSecret}\n-----END PRIVATE KEY-----\n`, { mode: 0o600 });
    const input = config(cert.key);
    const upstream = { ...input.upstream, mtls: { route: { path_prefix: '/mtls' }, backends: [{ id: 'm', address: 'https://127.0.0.1:9' }], tls: { cert: cert.cert, key: clientKey } } };
    await cp.pushAndActivate(SCOPE, { ...input, upstream }, 'secrets: broken upstream client key');
    await dp.waitForRejected(3);
    const everything = await everythingShown(/tls\.client_key\.unreadable/, [2, 3]);
    assert.ok(!everything.includes(clientKey), 'the client key path leaked');
    assert.ok(!everything.includes(clientSecret), 'the client key contents leaked');
    assert.ok(everything.includes('/upstream/mtls/tls/key'), 'the NACK names the field');
  });
});
