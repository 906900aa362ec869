/**
 * The ConfigSync server over mutual TLS in process, with real certificates (openssl) and a bare
 * protocol client: node identity refusals (PERMISSION_DENIED, counted), handshake refusals, and
 * the reload of the server certificate without dropping an open stream. The same checks with
 * real data-plane processes are in node-identity.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { type ClientDuplexStream, credentials, type ServiceError, status } from '@grpc/grpc-js';
import { ConfigSyncClient, type FromControlPlane, type FromDataPlane } from '@spooky/proto';
import pino from 'pino';
import { Registry } from 'prom-client';
import { createDistributionServer, type DistributionServer } from '../../controlplane/src/distribution/distribution-server.ts';
import { FakeRecorder, FakeSource, generation } from '../../controlplane/src/distribution/fake-distribution-ports.ts';
import { makeCa, makeExpiredLeaf, makeLeaf, type Pem } from './harness/pki.ts';

type Stream = ClientDuplexStream<FromDataPlane, FromControlPlane>;
const WAIT_MS = 10_000;

function hello(nodeId: string, scope: string): FromDataPlane {
  return {
    msg: {
      $case: 'hello',
      value: { nodeId, bootId: 'boot-1', scope, labels: {}, schemaMin: 1, schemaMax: 1, build: 'test', serving: undefined, source: 1, acceptEncodings: [], candidate: undefined, candidatePercent: 0 },
    },
  };
}

/** Log lines of the server, and a bounded wait for one. */
class LogTap {
  readonly lines: Array<Record<string, unknown>> = [];
  readonly #waiters: Array<() => void> = [];
  readonly stream = new Writable({
    write: (chunk: Buffer, _enc, done) => {
      for (const text of chunk.toString().split('\n').filter(Boolean)) this.lines.push(JSON.parse(text) as Record<string, unknown>);
      for (const w of this.#waiters.splice(0)) w();
      done();
    },
  });
  async until(pred: (l: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) throw new Error(`no such log line; got ${this.lines.map((l) => l['msg']).join(' | ')}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200).unref();
      });
    }
  }
}

/** First message or the stream's error, whichever comes first (bounded). */
function firstOutcome(stream: Stream): Promise<{ message?: FromControlPlane; error?: ServiceError }> {
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('no outcome in time')), WAIT_MS);
    stream.once('data', (message: FromControlPlane) => {
      clearTimeout(t);
      resolve({ message });
    });
    stream.once('error', (error: ServiceError) => {
      clearTimeout(t);
      resolve({ error });
    });
  });
}

/** The server certificate's CN seen by a fresh TLS handshake presenting `client`. */
function serverCn(port: number, ca: Pem, client: Pem): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca: readFileSync(ca.cert), cert: readFileSync(client.cert), key: readFileSync(client.key), servername: 'localhost', ALPNProtocols: ['h2'] }, () => {
      const cn = socket.getPeerCertificate().subject?.CN;
      socket.destroy();
      resolve(String(cn));
    });
    socket.once('error', reject);
    socket.setTimeout(WAIT_MS, () => socket.destroy(new Error('handshake timed out')));
  });
}

describe('ConfigSync over mutual TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-grpc-mtls-'));
  const nodeCa = makeCa(dir, 'node-ca');
  const serverCa = nodeCa; // one CA signs both here; the data plane's --ca-file is the server's CA
  const serverPem = makeLeaf(dir, 'cp', 'cp-v1', 'DNS:localhost,IP:127.0.0.1', serverCa);
  const n1 = makeLeaf(dir, 'n1', 'n1', 'URI:spiffe://spooky/scope/prod/node/n1', nodeCa);
  const noIdentity = makeLeaf(dir, 'anon', 'anon', 'DNS:anon.example', nodeCa);
  const expired = makeExpiredLeaf(dir, 'old', 'old', 'URI:spiffe://spooky/scope/prod/node/old', nodeCa);
  const stranger = makeLeaf(dir, 'stranger', 'stranger', 'URI:spiffe://spooky/scope/prod/node/n1', makeCa(dir, 'other-ca'));
  const source = new FakeSource();
  const recorder = new FakeRecorder();
  const registry = new Registry();
  const tap = new LogTap();
  let server: DistributionServer;
  let port = 0;
  const clients: ConfigSyncClient[] = [];
  const dial = (pem: Pem | null): Stream => {
    const ca = readFileSync(serverCa.cert);
    const creds = pem ? credentials.createSsl(ca, readFileSync(pem.key), readFileSync(pem.cert)) : credentials.createSsl(ca);
    const c = new ConfigSyncClient(`localhost:${port}`, creds);
    clients.push(c);
    return c.session();
  };

  before(async () => {
    server = createDistributionServer({
      source,
      recorder,
      logger: pino({ level: 'info' }, tap.stream),
      metricsRegistry: registry,
      tls: { certFile: serverPem.cert, keyFile: serverPem.key, clientCaFile: nodeCa.cert },
      tlsReloadPollMs: 100,
    });
    port = await server.listen('127.0.0.1', 0);
  });
  after(async () => {
    for (const c of clients) c.close();
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  });

  it('a node whose certificate names its scope and id is welcomed', async () => {
    source.activate(generation('prod', 1));
    const stream = dial(n1);
    stream.write(hello('n1', 'prod'));
    const first = await firstOutcome(stream);
    assert.equal(first.message?.msg?.$case, 'welcome');
    stream.cancel();
  });

  it('another scope, another node id, or a certificate without identity: PERMISSION_DENIED, logged, counted, not recorded', async () => {
    const cases: Array<[Pem, string, string, string, RegExp]> = [
      [n1, 'n1', 'stage', 'scope_not_allowed', /does not allow scope stage: it allows scope prod as node n1/],
      [n1, 'n2', 'prod', 'node_id_mismatch', /node id n2 does not match/],
      [noIdentity, 'anon', 'prod', 'bad_identity', /names no node identity/],
    ];
    for (const [pem, nodeId, scope, reason, pattern] of cases) {
      const stream = dial(pem);
      stream.write(hello(nodeId, scope));
      // A Nack right behind the Hello must count for nothing.
      stream.write({ msg: { $case: 'nack', value: { nonce: 'x', rejected: { scope, seq: 1, digest: 'sha256:0' }, stillServing: undefined, phase: 'parse', retryable: false, issues: [] } } });
      const { error } = await firstOutcome(stream);
      assert.equal(error?.code, status.PERMISSION_DENIED, reason);
      assert.match(error?.details ?? '', pattern);
      await tap.until((l) => l['reason'] === reason && String(l['msg']).startsWith('distribution: node refused'));
    }
    assert.equal(recorder.events.filter((e) => e.kind === 'connected' && e.nodeId !== 'n1').length, 0, 'no refused node is recorded');
    assert.equal(recorder.count('nacked'), 0, 'no refused Nack is recorded');
    const text = await registry.metrics();
    for (const reason of ['scope_not_allowed', 'node_id_mismatch', 'bad_identity']) {
      assert.match(text, new RegExp(`spooky_cp_node_auth_failures_total\\{reason="${reason}"\\} 1`));
    }
    assert.match(text, /spooky_cp_node_auth_failures_total\{reason="no_certificate"\} 0/, 'exported at 0 before any refusal');
  });

  it('no client certificate, an expired one, or one from another CA: refused in the handshake', async () => {
    for (const pem of [null, expired, stranger]) {
      const stream = dial(pem);
      stream.write(hello('n1', 'prod'));
      const { error } = await firstOutcome(stream);
      assert.equal(error?.code, status.UNAVAILABLE, `refused: ${pem?.cert ?? 'no certificate'}`);
    }
    assert.equal(recorder.events.filter((e) => e.kind === 'connected').length, 1, 'only the first test’s n1 was recorded');
  });

  it('a replaced server certificate serves new handshakes; an established stream stays up', async () => {
    const stream = dial(n1);
    const seen: FromControlPlane[] = [];
    let ended: unknown = null;
    stream.on('data', (m: FromControlPlane) => seen.push(m));
    stream.on('error', (err) => {
      ended = err;
    });
    const pushOf = async (seq: number): Promise<FromControlPlane> => {
      const deadline = Date.now() + WAIT_MS;
      for (;;) {
        const hit = seen.find((m) => m.msg?.$case === 'push' && m.msg.value.target?.seq === seq);
        if (hit) return hit;
        if (ended !== null || Date.now() > deadline) throw new Error(`no push of seq ${seq} (ended: ${String(ended)})`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    };
    stream.write(hello('n1', 'prod'));
    const push1 = await pushOf(1);
    assert.ok(push1.msg?.$case === 'push');
    stream.write({ msg: { $case: 'ack', value: { nonce: push1.msg.value.nonce, applied: push1.msg.value.target, servingAtUnixMs: Date.now(), candidate: false } } });
    assert.equal(await serverCn(port, serverCa, n1), 'cp-v1');
    assert.ok(tap.lines.some((l) => l['msg'] === 'grpc tls loaded' && l['subject'] === 'CN=cp-v1'));

    makeLeaf(dir, 'cp', 'cp-v2', 'DNS:localhost,IP:127.0.0.1', serverCa); // renamed into place
    await tap.until((l) => l['msg'] === 'grpc tls reloaded: new handshakes use the new certificate and node CA' && l['subject'] === 'CN=cp-v2');
    assert.equal(await serverCn(port, serverCa, n1), 'cp-v2');

    // The old stream still carries pushes: a new activation reaches it.
    source.activate(generation('prod', 2));
    await pushOf(2);
    assert.equal(ended, null, 'the established stream was not dropped');
    stream.cancel();
  });
  it('a bad replacement (a key not matching the certificate) is refused; the previous certificate keeps serving', async () => {
    const before = tap.lines.length;
    writeFileSync(`${serverPem.key}.tmp`, readFileSync(n1.key));
    renameSync(`${serverPem.key}.tmp`, serverPem.key);
    const refused = await tap.until((l) => tap.lines.indexOf(l) >= before && l['msg'] === 'grpc tls reload refused; the previous certificate keeps serving');
    assert.match(String(refused['reason']), /--grpc-tls-key does not match the certificate of --grpc-tls-cert/);
    assert.ok(!JSON.stringify(tap.lines).includes(serverPem.key), 'the key path is never logged');
    assert.equal(await serverCn(port, serverCa, n1), 'cp-v2');
  });
});
