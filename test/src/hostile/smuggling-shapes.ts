/**
 * The HTTP/1.1 request-smuggling shapes of issue 7, as raw bytes. Each shape frames a "front"
 * request ambiguously and hides a complete second request (`GET /smuggled-<name>`) where a
 * parser that resolved the ambiguity the wrong way would find it. The only acceptable answers
 * are a 400 (then the connection closes: after a framing error nothing on it can be trusted)
 * or a closed connection; and neither request may reach the origin.
 */

export interface SmugglingShape {
  readonly name: string;
  readonly bytes: (host: string) => Buffer;
}

const CRLF = '\r\n';

function smuggled(name: string, host: string): string {
  return `GET /smuggled-${name} HTTP/1.1${CRLF}Host: ${host}${CRLF}${CRLF}`;
}

function front(name: string, host: string, headerLines: readonly string[]): string {
  return `POST /front-${name} HTTP/1.1${CRLF}Host: ${host}${CRLF}${headerLines.map((h) => h + CRLF).join('')}${CRLF}`;
}

function chunk(data: string, eol = CRLF): string {
  return `${Buffer.byteLength(data).toString(16)}${eol}${data}${CRLF}`;
}

/** A chunked body "hello" followed by the smuggled request, with `eol` after the size line. */
function chunkedThenSmuggled(name: string, host: string, eol = CRLF): string {
  return `${chunk('hello', eol)}0${CRLF}${CRLF}${smuggled(name, host)}`;
}

const latin1 = (s: string): Buffer => Buffer.from(s, 'latin1');

export const SMUGGLING_SHAPES: readonly SmugglingShape[] = [
  {
    // Content-Length covers the smuggled request; chunked framing ends before it.
    name: 'cl-te',
    bytes: (h) => {
      const body = `0${CRLF}${CRLF}${smuggled('cl-te', h)}`;
      return latin1(front('cl-te', h, [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked']) + body);
    },
  },
  {
    // Chunked framing covers the smuggled request; Content-Length ends before it.
    name: 'te-cl',
    bytes: (h) => {
      const hidden = smuggled('te-cl', h);
      return latin1(front('te-cl', h, ['Content-Length: 4', 'Transfer-Encoding: chunked']) + chunk(hidden) + `0${CRLF}${CRLF}`);
    },
  },
  {
    name: 'duplicate-cl',
    bytes: (h) => {
      const body = smuggled('duplicate-cl', h);
      return latin1(front('duplicate-cl', h, ['Content-Length: 0', `Content-Length: ${body.length}`]) + body);
    },
  },
  {
    name: 'duplicate-cl-same-line',
    bytes: (h) => {
      const body = smuggled('duplicate-cl-same-line', h);
      return latin1(front('duplicate-cl-same-line', h, [`Content-Length: 0, ${body.length}`]) + body);
    },
  },
  { name: 'te-xchunked', bytes: (h) => latin1(front('te-xchunked', h, ['Transfer-Encoding: xchunked']) + chunkedThenSmuggled('te-xchunked', h)) },
  {
    name: 'te-xchunked-with-cl',
    bytes: (h) => {
      const body = chunkedThenSmuggled('te-xchunked-with-cl', h);
      return latin1(front('te-xchunked-with-cl', h, ['Transfer-Encoding: xchunked', `Content-Length: ${body.length}`]) + body);
    },
  },
  {
    // " chunked": a header line that starts with whitespace (obs-fold) carrying the TE header.
    name: 'te-obs-fold',
    bytes: (h) => {
      const body = chunkedThenSmuggled('te-obs-fold', h);
      return latin1(front('te-obs-fold', h, ['X-Pad: a', ' Transfer-Encoding: chunked', `Content-Length: ${body.length}`]) + body);
    },
  },
  {
    name: 'te-space-before-colon',
    bytes: (h) => {
      const body = chunkedThenSmuggled('te-space-before-colon', h);
      return latin1(front('te-space-before-colon', h, ['Transfer-Encoding : chunked', `Content-Length: ${body.length}`]) + body);
    },
  },
  { name: 'te-chunked-identity', bytes: (h) => latin1(front('te-chunked-identity', h, ['Transfer-Encoding: chunked, identity']) + chunkedThenSmuggled('te-chunked-identity', h)) },
  { name: 'te-identity-then-chunked-lines', bytes: (h) => latin1(front('te-identity-then-chunked-lines', h, ['Transfer-Encoding: chunked', 'Transfer-Encoding: identity']) + chunkedThenSmuggled('te-identity-then-chunked-lines', h)) },
  { name: 'bare-lf-chunk-line', bytes: (h) => latin1(front('bare-lf-chunk-line', h, ['Transfer-Encoding: chunked']) + chunkedThenSmuggled('bare-lf-chunk-line', h, '\n')) },
  { name: 'bare-cr-chunk-line', bytes: (h) => latin1(front('bare-cr-chunk-line', h, ['Transfer-Encoding: chunked']) + chunkedThenSmuggled('bare-cr-chunk-line', h, '\r')) },
  {
    name: 'chunk-size-overflow',
    bytes: (h) => latin1(front('chunk-size-overflow', h, ['Transfer-Encoding: chunked']) + `10000000000000005${CRLF}hello${CRLF}0${CRLF}${CRLF}${smuggled('chunk-size-overflow', h)}`),
  },
  {
    name: 'bare-lf-header',
    bytes: (h) => latin1(`POST /front-bare-lf-header HTTP/1.1${CRLF}Host: ${h}\nTransfer-Encoding: chunked${CRLF}Content-Length: 5${CRLF}${CRLF}` + chunkedThenSmuggled('bare-lf-header', h)),
  },
  {
    name: 'bare-cr-header',
    bytes: (h) => latin1(`POST /front-bare-cr-header HTTP/1.1${CRLF}Host: ${h}\rTransfer-Encoding: chunked${CRLF}Content-Length: 5${CRLF}${CRLF}` + chunkedThenSmuggled('bare-cr-header', h)),
  },
  { name: 'nul-in-header', bytes: (h) => latin1(front('nul-in-header', h, ['X-Evil: a\0b', 'Transfer-Encoding: chunked']) + chunkedThenSmuggled('nul-in-header', h)) },
];
