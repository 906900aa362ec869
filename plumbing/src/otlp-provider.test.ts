import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createOtlpProvider } from './otlp-provider.ts';
import type { ExportFailureReport } from './reporting-exporter.ts';

/** A local OTLP/HTTP collector: records each request's path and body, answers `status`. */
class Collector {
  readonly bodies: { path: string; body: string }[] = [];
  status = 200;
  readonly #server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      this.bodies.push({ path: req.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(this.status, { 'content-type': 'application/json' }).end('{}');
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}/v1/traces`;
  }

  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

describe('createOtlpProvider', () => {
  const collector = new Collector();
  before(() => collector.start());
  after(() => collector.stop());

  it('exports ended spans to the endpoint with the service name; flush sends what is queued', async () => {
    const failures: ExportFailureReport[] = [];
    const provider = createOtlpProvider({ endpoint: collector.url, sampleRatio: 1, serviceName: 'plumbing-test' }, (r) => failures.push(r), 'plumbing-scope');
    try {
      const span = provider.tracer.startSpan('exported-span');
      assert.equal(span.isRecording(), true, 'ratio 1 records every new trace');
      span.end();
      await provider.flush();
      const sent = collector.bodies.find((b) => b.body.includes('exported-span'));
      assert.ok(sent, 'the span reached the collector');
      assert.equal(sent.path, '/v1/traces');
      assert.match(sent.body, /plumbing-test/);
      assert.match(sent.body, /plumbing-scope/);
      assert.deepEqual(failures, []);
    } finally {
      await provider.shutdown();
    }
  });

  it('ratio 0 records no new trace; a failed export is reported (rate-limited) and rejects flush', async () => {
    const failures: ExportFailureReport[] = [];
    const unsampled = createOtlpProvider({ endpoint: collector.url, sampleRatio: 0, serviceName: 'plumbing-test' }, (r) => failures.push(r), 'plumbing-scope');
    const sampled = createOtlpProvider({ endpoint: collector.url, sampleRatio: 1, serviceName: 'plumbing-test' }, (r) => failures.push(r), 'plumbing-scope');
    try {
      const quiet = unsampled.tracer.startSpan('unsampled-span');
      assert.equal(quiet.isRecording(), false);
      quiet.end();
      collector.status = 500;
      sampled.tracer.startSpan('refused-span').end();
      await assert.rejects(sampled.flush(), /Internal Server Error/, 'flush rejects with the failed export');
      await unsampled.flush();
      assert.equal(failures.length, 1);
      assert.deepEqual([failures[0]?.batches, failures[0]?.spans], [1, 1]);
      assert.ok(!collector.bodies.some((b) => b.body.includes('unsampled-span')), 'an unrecorded span is never exported');
    } finally {
      collector.status = 200;
      await Promise.all([unsampled.shutdown(), sampled.shutdown()]);
    }
  });
});
