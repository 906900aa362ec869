/**
 * A tiny HTTP/3 client: `node scripts/h3-get.ts URL [-X METHOD] [-d @FILE|TEXT] [-H 'name: value']... [-i]`.
 * Prints the response body to stdout (with -i, the status and headers first) and exits 0 on any
 * HTTP response, 1 on a transport error. The certificate is not verified (local/demo use).
 */
import { readFileSync } from 'node:fs';
import { h3Fetch } from '../test/src/harness/h3-client.ts';

const args = process.argv.slice(2);
let url: URL | null = null;
let method = 'GET';
let body: Buffer | undefined;
let showHead = false;
const headers: Record<string, string> = {};
for (let i = 0; i < args.length; i++) {
  const a = args[i]!;
  if (a === '-X') method = args[++i] ?? 'GET';
  else if (a === '-i') showHead = true;
  else if (a === '-H') {
    const h = args[++i] ?? '';
    const colon = h.indexOf(':');
    if (colon > 0) headers[h.slice(0, colon).trim().toLowerCase()] = h.slice(colon + 1).trim();
  } else if (a === '-d') {
    const d = args[++i] ?? '';
    body = d.startsWith('@') ? readFileSync(d.slice(1)) : Buffer.from(d);
    if (method === 'GET') method = 'POST';
  } else url = new URL(a);
}
if (url?.protocol !== 'https:') {
  console.error('usage: node scripts/h3-get.ts https://HOST:PORT/PATH [-X METHOD] [-d @FILE|TEXT] [-H "name: value"] [-i]');
  process.exit(2);
}
const port = Number(url.port || 443);
try {
  const res = await h3Fetch(port, {
    method,
    path: `${url.pathname}${url.search}`,
    authority: url.host,
    headers,
    ...(body ? { body } : {}),
  });
  if (showHead) {
    console.log(`HTTP/3 ${res.status}`);
    for (const [k, v] of Object.entries(res.headers)) if (!k.startsWith(':')) console.log(`${k}: ${v}`);
    console.log('');
  }
  process.stdout.write(res.body);
  if (res.body.length > 0 && !res.body.toString('latin1').endsWith('\n')) process.stdout.write('\n');
  process.exit(0);
} catch (err) {
  console.error(`h3-get: ${(err as Error).message}`);
  process.exit(1);
}
