/**
 * Test support: one request over each protocol a listener speaks, collected into
 * {status, headers, body}. The HTTP/3 client is the library's own.
 */
import { once } from 'node:events';
import { connect as h2connect } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { connectAsync, type IncomingHeaders } from '@currentspace/http3';

export interface Reply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
  readonly trailers?: Record<string, string | string[] | undefined>;
}

export async function h3Request(port: number, method: string, path: string, body?: string, extra: IncomingHeaders = {}): Promise<Reply> {
  const session = await connectAsync(`127.0.0.1:${port}`, { rejectUnauthorized: false });
  session.on('error', () => {});
  try {
    const stream = session.request(
      { ':method': method, ':scheme': 'https', ':authority': `localhost:${port}`, ':path': path, ...extra },
      { endStream: body === undefined },
    );
    // Collect from the first tick: the library resumes a never-read stream when FIN arrives,
    // so a body that lands with the response head is lost unless a reader is already there.
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    let trailers: IncomingHeaders | undefined;
    stream.on('trailers', (t: IncomingHeaders) => {
      trailers = t;
    });
    const ended = once(stream, 'end');
    const response = once(stream, 'response') as Promise<[IncomingHeaders]>;
    if (body !== undefined) stream.end(body);
    const [headers] = await response;
    await ended;
    const reply = { status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString('utf8') };
    return trailers ? { ...reply, trailers } : reply;
  } finally {
    await session.close();
  }
}

export async function h2Request(port: number, method: string, path: string, body?: string): Promise<Reply> {
  const client = h2connect(`https://127.0.0.1:${port}`, { rejectUnauthorized: false });
  client.on('error', () => {});
  try {
    const req = client.request({ ':method': method, ':path': path, ':authority': `localhost:${port}` }, { endStream: body === undefined });
    if (body !== undefined) req.end(body);
    let trailers: Record<string, string | string[] | undefined> | undefined;
    req.on('trailers', (t) => {
      trailers = t;
    });
    const [headers] = (await once(req, 'response')) as [Record<string, string | string[] | undefined>];
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const reply = { status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString('utf8') };
    return trailers ? { ...reply, trailers } : reply;
  } finally {
    client.close();
  }
}

export async function h1Request(port: number, method: string, path: string, body?: string): Promise<Reply> {
  const req = httpsRequest({ host: '127.0.0.1', port, method, path, rejectUnauthorized: false, agent: false, headers: { host: `localhost:${port}` } });
  req.end(body);
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return { status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') };
}
