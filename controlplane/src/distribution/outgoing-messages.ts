/**
 * What the control plane writes on a ConfigSync stream: a FromControlPlane object (Welcome,
 * GoAway), or a FromControlPlane already encoded (the shared push of push-plan.ts). The server
 * registers the service with `serializeOutgoing`, which passes encoded bytes through untouched
 * and encodes objects without the extra copy of the generated serializer.
 */
import { ConfigSyncService, FromControlPlane } from '@spooky/proto';

export type OutgoingMessage = FromControlPlane | Buffer;

export function serializeOutgoing(value: OutgoingMessage): Buffer {
  if (Buffer.isBuffer(value)) return value;
  const encoded = FromControlPlane.encode(value).finish();
  return Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength);
}

/** ConfigSyncService with the response serializer above (requests decode as generated). */
export const ConfigSyncServerDefinition = {
  session: { ...ConfigSyncService.session, responseSerialize: serializeOutgoing },
} as const;
