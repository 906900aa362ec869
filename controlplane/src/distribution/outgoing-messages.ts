/**
 * What the control plane writes on a ConfigSync stream: a FromControlPlane object (Welcome,
 * GoAway), or one already encoded (EncodedMessage: the shared push of push-plan.ts). The
 * server registers the service with `serializeOutgoing`:
 *  - an object is encoded without the extra copy of the generated serializer;
 *  - an EncodedMessage is handed to gRPC as it is. grpc-js (1.14, server-interceptors.js
 *    serializeMessage) reads only `byteLength` of what a serializer returns and calls
 *    `copy(frame, 5)` to place it after the 5-byte frame header, and EncodedMessage offers
 *    exactly those two with Buffer's contract, so the shared body is copied once, into the
 *    frame, and never concatenated first. Should a grpc-js upgrade use more of Buffer, the
 *    serializer's result breaks the write, the stream ends with INTERNAL and the server tests
 *    (chunked pushes over real gRPC) fail.
 */
import { ConfigSyncService, FromControlPlane } from '@spooky/proto';
import { EncodedMessage } from './push-plan.ts';

export type OutgoingMessage = FromControlPlane | EncodedMessage;

export function serializeOutgoing(value: OutgoingMessage): Buffer {
  if (value instanceof EncodedMessage) return value as unknown as Buffer;
  const encoded = FromControlPlane.encode(value).finish();
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** ConfigSyncService with the response serializer above (requests decode as generated). */
export const ConfigSyncServerDefinition = {
  session: { ...ConfigSyncService.session, responseSerialize: serializeOutgoing },
} as const;
