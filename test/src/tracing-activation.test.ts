/**
 * End-to-end: the control plane's activation → push → ack/nack spans, and the data plane's
 * span export switched on and off by generations (no restart), with a real control plane
 * (--otlp-endpoint), a real data plane attached over gRPC, a real HTTP/3 client, an HTTP/1.1
 * origin and a real OTLP/HTTP receiver (test/src/harness/otlp-receiver.ts) both planes post to.
 * One fleet; the tests run in order and build on each other (seq 1 export off → 2 export on →
 * 3 NACKed → rollback to 1, export off again → 2 again, on).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type CertFiles, ensureSelfSignedCert } from './harness/certs.ts';
import { freePort } from './harness/free-port.ts';
import { h3Fetch } from './harness/h3-client.ts';
import { type Origin, startH1Origin } from './harness/origins.ts';
import { OtlpReceiver, type ReceivedSpan, SPAN_KIND } from './harness/otlp-receiver.ts';
import { ControlPlane, DataPlane } from './harness/planes.ts';

const SCOPE = 'traced';
const NODE = 'dp-traced';

describe('activation → push → ack spans, and span export live on a new generation', () => {
  let dir: string;
  let cert: CertFiles;
  let origin: Origin;
  let receiver: OtlpReceiver;
  let cp: ControlPlane;
  let dp: DataPlane;
  let port: number;

  function config(exportOn: boolean, listenCert = cert.cert): unknown {
    return {
      version: 1,
      listen: { address: '127.0.0.1', port, tls: { cert: listenCert, key: cert.key } },
      observability: { tracing: { enabled: exportOn, otlp_endpoint: `${receiver.url}/v1/traces` } },
      upstream: { app: { route: { path_prefix: '/' }, backends: [{ id: 'o1', address: origin.url }] } },
    };
  }

  /** The CP's activation span for `seq` (moved there) and the push span to our node under it, once the push was answered. */
  async function activationTrace(kind: 'activate' | 'rollback', seq: number): Promise<{ activation: ReceivedSpan; push: ReceivedSpan }> {
    return receiver.waitFor(`${kind} of ${seq} with its answered push`, (spans) => {
      const activation = spans.find((s) => s.service === 'spooky-controlplane' && s.attributes['spooky.move'] === kind && s.attributes['spooky.generation_seq'] === seq);
      if (activation === undefined) return undefined;
      const push = spans.find((s) => s.parentSpanId === activation.spanId && s.attributes['spooky.node_id'] === NODE);
      return push === undefined ? undefined : { activation, push };
    });
  }

  async function requestTraceId(path: string): Promise<string> {
    const before = origin.requests.length;
    const reply = await h3Fetch(port, { path });
    assert.equal(reply.status, 200);
    const seen = origin.requests.slice(before).find((r) => r.path === path);
    return String(seen?.headers['traceparent']).slice(3, 35);
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'spooky-otel-cp-'));
    cert = ensureSelfSignedCert(join(dir, 'certs'));
    origin = await startH1Origin('origin');
    receiver = await OtlpReceiver.start();
    port = await freePort();
    cp = await ControlPlane.start(join(dir, 'cp'), { reportIntervalMs: 200, extra: ['--otlp-endpoint', receiver.url] });
    await cp.proc.waitForLog((l) => l.msg === 'tracing: span export on');
    dp = await DataPlane.start({ controlPlane: cp.grpc, nodeId: NODE, scope: SCOPE, cacheDir: join(dir, 'cache') });
  });

  after(async () => {
    await dp?.proc.stop();
    await cp?.proc.stop();
    await origin?.close();
    await receiver?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  test('activation of seq 1: an activation span, a push span under it ended by the ack; the data plane exports nothing', async () => {
    const seq = await cp.pushAndActivate(SCOPE, config(false), 'otel: export off');
    assert.equal(seq, 1);
    await dp.waitForApplied(1);
    const { activation, push } = await activationTrace('activate', 1);
    assert.equal(activation.name, `activate ${SCOPE}`);
    assert.equal(activation.parentSpanId, '', 'an activation starts its trace');
    assert.deepEqual([activation.attributes['spooky.scope'], activation.attributes['spooky.target'], activation.attributes['spooky.moved'], activation.attributes['spooky.actor']], [SCOPE, '1', true, 'admin']);
    assert.equal(push.traceId, activation.traceId);
    assert.equal(push.kind, SPAN_KIND.client);
    assert.equal(push.name, `push ${NODE}`);
    assert.deepEqual([push.attributes['spooky.push.result'], push.attributes['spooky.push.mode'], push.attributes['spooky.generation_seq'], push.attributes['spooky.boot_id']], ['ack', 'serve', 1, dp.bootId]);
    assert.deepEqual(push.events.map((e) => [e.name, e.attributes['spooky.applied_seq']]), [['ack', 1]]);
    assert.ok(push.endNs > push.startNs);
    // Export off on the data plane: its request is not exported (checked against the next test's export).
    offTrace = await requestTraceId('/off');
  });

  let offTrace = '';

  test('seq 2 turns span export on without a restart: the request and attempt spans arrive', async () => {
    const pid = dp.pid;
    const seq = await cp.pushAndActivate(SCOPE, config(true), 'otel: export on');
    await dp.waitForApplied(seq);
    const traceId = await requestTraceId('/on');
    // The worker resolves its tracer on the generation's first request.
    await dp.proc.waitForLog((l) => l.msg === 'tracing: span export on' && l['seq'] === seq);
    const spans = await receiver.waitFor('the request and attempt spans', (all) => {
      const mine = all.filter((s) => s.traceId === traceId && s.service === 'spooky-dataplane');
      return mine.length >= 2 ? mine : undefined;
    });
    const server = spans.find((s) => s.kind === SPAN_KIND.server);
    assert.ok(server);
    assert.equal(server.attributes['spooky.generation_seq'], seq);
    assert.ok(spans.some((s) => s.kind === SPAN_KIND.client && s.parentSpanId === server.spanId));
    assert.equal(dp.pid, pid, 'same process');
    assert.equal(receiver.trace(offTrace).length, 0, 'the request served with export off was not exported');
  });

  test('a generation the node cannot load: the push span ends with a nack event', async () => {
    const seq = await cp.pushAndActivate(SCOPE, config(true, join(dir, 'missing', 'cert.pem')), 'otel: bad certificate path');
    assert.equal(seq, 3);
    await dp.waitForRejected(3);
    const { push } = await activationTrace('activate', 3);
    assert.equal(push.attributes['spooky.push.result'], 'nack');
    assert.equal(push.status, 2, 'status error');
    const nack = push.events.find((e) => e.name === 'nack');
    assert.ok(nack, 'a nack event');
    assert.equal(typeof nack.attributes['spooky.nack.phase'], 'string');
    assert.ok(Number(nack.attributes['spooky.nack.issues']) >= 1);
  });

  test('rollback to seq 1: a rollback span, a push of seq 1 under it, acked; export is off again', async () => {
    const from = dp.proc.lines.length;
    const active = await cp.api<{ version: number }>('GET', `/v1/scopes/${SCOPE}/active`);
    const rolled = await cp.api('POST', `/v1/scopes/${SCOPE}/rollback`, { reason: 'otel: back to 1', body: { to: 1 }, headers: { 'if-match': `"${active.body.version}"` } });
    assert.equal(rolled.status, 200, JSON.stringify(rolled.body));
    const { activation, push } = await activationTrace('rollback', 1);
    assert.equal(activation.name, `rollback ${SCOPE}`);
    assert.equal(activation.attributes['spooky.target'], '1');
    assert.equal(push.attributes['spooky.push.result'], 'ack');
    await dp.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 1, 20_000, from);
    offTrace = await requestTraceId('/off-again');
    await dp.proc.waitForLog((l) => l.msg === 'tracing: span export off' && l['seq'] === 1, 20_000, from);
  });

  test('activating seq 2 again: export back on; the request served while it was off was never exported', async () => {
    const from = dp.proc.lines.length;
    const active = await cp.api<{ version: number }>('GET', `/v1/scopes/${SCOPE}/active`);
    const put = await cp.api('PUT', `/v1/scopes/${SCOPE}/active`, { reason: 'otel: on again', body: { seq: 2 }, headers: { 'if-match': `"${active.body.version}"` } });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    await dp.proc.waitForLog((l) => l.msg === 'generation applied' && l['seq'] === 2, 20_000, from);
    const marker = await requestTraceId('/marker');
    await receiver.waitFor('the marker request span', (spans) => spans.find((s) => s.traceId === marker && s.kind === SPAN_KIND.server));
    assert.equal(receiver.trace(offTrace).length, 0);
  });

  test('a refused move is an activation span with an error and no push', async () => {
    const refused = await cp.api('PUT', `/v1/scopes/${SCOPE}/active`, { reason: 'otel: stale etag', body: { seq: 1 }, headers: { 'if-match': '"1"' } });
    assert.equal(refused.status, 412);
    const span = await receiver.waitFor('the refused activation span', (spans) =>
      spans.find((s) => s.service === 'spooky-controlplane' && s.attributes['spooky.move'] === 'activate' && s.attributes['spooky.target'] === '1' && s.status === 2),
    );
    assert.equal(span.attributes['error.type'], 'precondition_failed');
    assert.equal(receiver.spans.filter((s) => s.parentSpanId === span.spanId).length, 0);
  });
});
