/**
 * A raw HTTP/2 frame client (RFC 9113) for hostile-client tests: it writes frames exactly as
 * told — thousands of HEADERS + RST_STREAM pairs in one write, header blocks split over
 * CONTINUATION frames — which node:http2's client would pace, merge or refuse. It answers the
 * server's SETTINGS and PING (so the connection stays valid) and records every frame type
 * received, GOAWAY's error code and which streams got HEADERS or RST_STREAM back.
 *
 * Header blocks are HPACK "literal without indexing, new name" fields with raw (non-Huffman)
 * strings: valid for any decoder and independent of its dynamic table. Of a response header
 * block only the leading `:status` is decoded (see decodeStatus), which is all these tests need.
 */
import { type RawConnection, rawTls } from './raw-tls.ts';

export const FRAME = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, PING: 0x6, GOAWAY: 0x7, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const H2_CANCEL = 0x8;
const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an N-bit prefix (RFC 7541 §5.1); `first` holds the bits above the prefix. */
function hpackInt(value: number, prefixBits: number, first = 0): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7), bytes]);
}

/** An HPACK header block of literal-without-indexing fields, in the order given. */
export function headerBlock(fields: ReadonlyArray<readonly [string, string]>): Buffer {
  return Buffer.concat(fields.flatMap(([n, v]) => [Buffer.from([0x00]), hpackString(n), hpackString(v)]));
}

/** HEADERS (+ CONTINUATION frames when the block exceeds `maxFrame`, the default 16 384). */
export function headersFrames(streamId: number, block: Buffer, endStream: boolean, maxFrame = 16_384): Buffer {
  const parts: Buffer[] = [];
  let off = 0;
  do {
    parts.push(block.subarray(off, off + maxFrame));
    off += maxFrame;
  } while (off < block.length);
  return Buffer.concat(parts.map((p, i) => {
    const last = i === parts.length - 1;
    const flags = (last ? FLAG.END_HEADERS : 0) | (i === 0 && endStream ? FLAG.END_STREAM : 0);
    return frame(i === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, flags, streamId, p);
  }));
}

export function rstStreamFrame(streamId: number, code = H2_CANCEL): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code, 0);
  return frame(FRAME.RST_STREAM, 0, streamId, p);
}

/** Static-table entries (RFC 7541 Appendix A) that are a `:status`. */
const STATIC_STATUS: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
/** Huffman codes (RFC 7541 Appendix B) of the digits, as [bits, length]. */
const DIGIT_CODES: ReadonlyArray<readonly [number, number]> = [
  [0x0, 5], [0x1, 5], [0x2, 5], [0x19, 6], [0x1a, 6], [0x1b, 6], [0x1c, 6], [0x1d, 6], [0x1e, 6], [0x1f, 6],
];

function huffmanDigits(bytes: Buffer): string | null {
  let bits = '';
  for (const b of bytes) bits += b.toString(2).padStart(8, '0');
  let out = '';
  let i = 0;
  while (i < bits.length) {
    const hit = DIGIT_CODES.findIndex(([code, len]) => bits.slice(i, i + len) === code.toString(2).padStart(len, '0'));
    if (hit < 0) return /^1{0,7}$/.test(bits.slice(i)) ? out : null; // EOS padding
    out += String(hit);
    i += DIGIT_CODES[hit]![1];
  }
  return out;
}

/**
 * The `:status` of a response header block when it is the block's first field and is either a
 * static-table entry or a literal with the static `:status` name (what a fresh connection's
 * first response looks like); null otherwise.
 */
export function decodeStatus(block: Buffer): number | null {
  const first = block[0];
  if (first === undefined) return null;
  if (first & 0x80) return STATIC_STATUS[first & 0x7f] ?? null;
  const nameIndex = (first & 0xc0) === 0x40 ? first & 0x3f : first & 0x0f;
  if (nameIndex < 8 || nameIndex > 14 || block.length < 2) return null;
  const huffman = (block[1]! & 0x80) !== 0;
  const raw = block.subarray(2, 2 + (block[1]! & 0x7f));
  const text = huffman ? huffmanDigits(raw) : raw.toString('latin1');
  return text !== null && /^\d{3}$/.test(text) ? Number(text) : null;
}

export class H2FrameClient {
  readonly conn: RawConnection;
  /** Count of frames received per frame type. */
  readonly received = new Map<number, number>();
  /** Streams the server sent HEADERS on / reset. */
  readonly headersOn = new Set<number>();
  readonly resetOn = new Set<number>();
  /** `:status` per stream, where decodeStatus could read it. */
  readonly statusOn = new Map<number, number>();
  goawayCode: number | null = null;
  #buf: Buffer = Buffer.alloc(0);

  private constructor(conn: RawConnection) {
    this.conn = conn;
    conn.socket.on('data', (chunk: Buffer) => this.#onData(chunk));
  }

  /** TLS with ALPN h2, then the client preface and an empty SETTINGS frame. */
  static async connect(port: number): Promise<H2FrameClient> {
    const conn = await rawTls(port, ['h2']);
    const alpn = (conn.socket as import('node:tls').TLSSocket).alpnProtocol;
    if (alpn !== 'h2') {
      conn.destroy();
      throw new Error(`server did not negotiate h2 (ALPN ${String(alpn)})`);
    }
    const client = new H2FrameClient(conn);
    conn.write(Buffer.concat([PREFACE, frame(FRAME.SETTINGS, 0, 0)]));
    return client;
  }

  write(bytes: Buffer): void {
    this.conn.write(bytes);
  }

  /** True once a GOAWAY arrived or the connection closed; false after `timeoutMs`. */
  waitGoawayOrClose(timeoutMs: number): Promise<boolean> {
    return this.conn.waitUntil(() => this.goawayCode !== null || this.conn.closed, timeoutMs);
  }

  #onData(chunk: Buffer): void {
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    while (this.#buf.length >= 9) {
      const len = this.#buf.readUIntBE(0, 3);
      if (this.#buf.length < 9 + len) break;
      const type = this.#buf[3]!;
      const flags = this.#buf[4]!;
      const streamId = this.#buf.readUInt32BE(5) & 0x7fffffff;
      const payload = this.#buf.subarray(9, 9 + len);
      this.#buf = this.#buf.subarray(9 + len);
      this.received.set(type, (this.received.get(type) ?? 0) + 1);
      if (type === FRAME.SETTINGS && (flags & FLAG.ACK) === 0) this.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      else if (type === FRAME.PING && (flags & FLAG.ACK) === 0) this.write(frame(FRAME.PING, FLAG.ACK, 0, Buffer.from(payload)));
      else if (type === FRAME.GOAWAY && payload.length >= 8) this.goawayCode = payload.readUInt32BE(4);
      else if (type === FRAME.HEADERS) {
        this.headersOn.add(streamId);
        const status = decodeStatus(headerBlockOf(flags, payload));
        if (status !== null && !this.statusOn.has(streamId)) this.statusOn.set(streamId, status);
      }
      else if (type === FRAME.RST_STREAM) this.resetOn.add(streamId);
    }
  }

  destroy(): void {
    this.conn.destroy();
  }
}

/** A HEADERS payload without its padding and priority fields. */
function headerBlockOf(flags: number, payload: Buffer): Buffer {
  let start = 0;
  let end = payload.length;
  if (flags & 0x8) {
    end -= payload[0] ?? 0;
    start = 1;
  }
  if (flags & 0x20) start += 5;
  return payload.subarray(start, Math.max(start, end));
}
