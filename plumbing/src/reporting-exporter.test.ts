import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ExportResult, ExportResultCode } from '@opentelemetry/core';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace';
import { type ExportFailureReport, ReportingExporter } from './reporting-exporter.ts';

class Scripted implements SpanExporter {
  next: ExportResult = { code: ExportResultCode.SUCCESS };
  export(_spans: ReadableSpan[], done: (r: ExportResult) => void): void {
    done(this.next);
  }
  async shutdown(): Promise<void> {}
}

const spans = (n: number) => new Array(n).fill({}) as ReadableSpan[];

describe('ReportingExporter', () => {
  it('reports the first failure at once, then at most once per interval with the counts since', () => {
    const inner = new Scripted();
    const reports: ExportFailureReport[] = [];
    let now = 0;
    const exporter = new ReportingExporter(inner, (r) => reports.push(r), 30_000, () => now);
    const results: number[] = [];
    inner.next = { code: ExportResultCode.FAILED, error: new Error('connect ECONNREFUSED 127.0.0.1:4318') };
    exporter.export(spans(3), (r) => results.push(r.code));
    now = 1000;
    exporter.export(spans(4), (r) => results.push(r.code));
    now = 2000;
    exporter.export(spans(5), (r) => results.push(r.code));
    assert.deepEqual(reports, [{ batches: 1, spans: 3, message: 'connect ECONNREFUSED 127.0.0.1:4318' }]);
    now = 31_000;
    exporter.export(spans(1), (r) => results.push(r.code));
    assert.deepEqual(reports[1], { batches: 3, spans: 10, message: 'connect ECONNREFUSED 127.0.0.1:4318' });
    assert.deepEqual(results, [1, 1, 1, 1], 'the SDK still sees each result');
  });

  it('successes report nothing; a throwing reporter never reaches the export loop', () => {
    const inner = new Scripted();
    const exporter = new ReportingExporter(inner, () => {
      throw new Error('logger broke');
    });
    exporter.export(spans(1), () => undefined);
    inner.next = { code: ExportResultCode.FAILED };
    let code = -1;
    assert.doesNotThrow(() => exporter.export(spans(1), (r) => (code = r.code)));
    assert.equal(code, ExportResultCode.FAILED);
  });
});
