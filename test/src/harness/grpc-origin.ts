/**
 * A real gRPC server (@grpc/grpc-js over TLS, so HTTP/2 with ALPN h2 — what an `https://`
 * backend speaks) with one hand-written service, `spooky.test.Echo`, whose messages are one
 * protobuf field (`string text = 1`) encoded by hand (grpcMessage / grpcText), so a test can
 * build and read gRPC frames without generated code:
 *  - `Unary`: answers `echo:<text>`; text `fail` → NOT_FOUND `no such thing: fail` (grpc-js sends
 *    that as a trailers-only response: grpc-status in the response HEADERS, END_STREAM).
 *  - `Stream` (server streaming): `one`, then waits on a fresh Gate (in `gates`), then `two`,
 *    then status OK — or, for text `fail`, ABORTED `stopped after two` in real trailers.
 */
import { readFileSync } from 'node:fs';
import { Server, ServerCredentials, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData, status } from '@grpc/grpc-js';
import type { CertFiles } from './certs.ts';
import { Gate } from './gate.ts';

const GATE_MS = 20_000;

/** Protobuf bytes of `{text}` (field 1, wire type 2); text shorter than 128 bytes. */
export function grpcMessage(text: string): Buffer {
  const bytes = Buffer.from(text);
  if (bytes.length >= 128) throw new Error('grpcMessage: text too long for a one-byte length');
  return Buffer.concat([Buffer.from([0x0a, bytes.length]), bytes]);
}

/** `text` of a message built by grpcMessage. */
export function grpcText(message: Buffer): string {
  if (message.length === 0) return '';
  if (message[0] !== 0x0a || message[1] !== message.length - 2) throw new Error(`grpcText: unexpected message ${message.toString('hex')}`);
  return message.subarray(2).toString();
}

/** One gRPC length-prefixed frame (uncompressed) around `message`. */
export function grpcFrame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** The messages of the complete frames in `data`, and how many bytes they took. */
export function grpcUnframe(data: Buffer): { messages: Buffer[]; used: number } {
  const messages: Buffer[] = [];
  let at = 0;
  while (data.length - at >= 5) {
    const len = data.readUInt32BE(at + 1);
    if (data.length - at - 5 < len) break;
    messages.push(data.subarray(at + 5, at + 5 + len));
    at += 5 + len;
  }
  return { messages, used: at };
}

export interface GrpcOrigin {
  readonly url: string;
  readonly gates: Gate[];
  close(): Promise<void>;
}

const same = (b: Buffer): Buffer => b;
const method = (name: string, responseStream: boolean) => ({
  path: `/spooky.test.Echo/${name}`,
  requestStream: false,
  responseStream,
  requestSerialize: same,
  requestDeserialize: same,
  responseSerialize: same,
  responseDeserialize: same,
});

export async function startGrpcOrigin(cert: CertFiles): Promise<GrpcOrigin> {
  const gates: Gate[] = [];
  const server = new Server();
  server.addService(
    { Unary: method('Unary', false), Stream: method('Stream', true) },
    {
      Unary: (call: ServerUnaryCall<Buffer, Buffer>, done: sendUnaryData<Buffer>) => {
        const text = grpcText(call.request);
        if (text === 'fail') done({ code: status.NOT_FOUND, details: 'no such thing: fail' });
        else done(null, grpcMessage(`echo:${text}`));
      },
      Stream: (call: ServerWritableStream<Buffer, Buffer>) => {
        const text = grpcText(call.request);
        const gate = new Gate();
        gates.push(gate);
        call.write(grpcMessage('one'));
        void gate.wait(GATE_MS).then(() => {
          if (call.cancelled) return;
          call.write(grpcMessage('two'));
          if (text === 'fail') call.emit('error', { code: status.ABORTED, details: 'stopped after two' });
          else call.end();
        });
      },
    },
  );
  const creds = ServerCredentials.createSsl(null, [{ private_key: readFileSync(cert.key), cert_chain: readFileSync(cert.cert) }], false);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', creds, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  return {
    url: `https://127.0.0.1:${port}`,
    gates,
    close: () => {
      for (const g of gates) g.open();
      server.forceShutdown();
      return Promise.resolve();
    },
  };
}
