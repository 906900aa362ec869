/**
 * HTTPS GETs to a listener on 127.0.0.1 from a chosen client address: Linux routes the whole
 * 127/8 to lo, so a connection can bind any 127.x.y.z as its local address without setup. The
 * in-node canary splits by client address (docs/rollout.md §5), so a suite that measures the
 * split needs many distinct ones: `clientAddress(i)` is the i-th of 62 500 (127.1.0.2 onwards).
 * One connection per request (`agent: false`), certificate checked against the test CA,
 * bounded by `timeoutMs`; a transport failure resolves as status 0.
 */
import { request } from 'node:https';
import type { SimpleResponse } from './unix-https-client.ts';

/** The i-th distinct loopback client address: 127.1.<i / 250>.<i % 250 + 2>, i < 62 500. */
export function clientAddress(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= 62_500) throw new RangeError(`client address index ${i}`);
  return `127.1.${Math.floor(i / 250)}.${(i % 250) + 2}`;
}

export function httpsGetFrom(port: number, path: string, localAddress: string, ca: string, timeoutMs = 10_000): Promise<SimpleResponse> {
  return new Promise((resolve) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', localAddress, ca, servername: 'localhost', agent: false, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => resolve({ status: 0, headers: {}, body: '', error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err) => resolve({ status: 0, headers: {}, body: '', error: err.message }));
    req.end();
  });
}

/** GETs `path` once from each of the addresses `from … from+count-1`, `concurrency` at a time, in order of index. */
export async function sweep(port: number, path: string, ca: string, from: number, count: number, concurrency = 8): Promise<SimpleResponse[]> {
  const out: SimpleResponse[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (;;) {
      const i = next++;
      if (i >= count) return;
      out[i] = await httpsGetFrom(port, `${path}${path.includes('?') ? '&' : '?'}i=${from + i}`, clientAddress(from + i), ca);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  return out;
}
