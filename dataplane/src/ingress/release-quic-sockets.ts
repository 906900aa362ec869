/**
 * Makes the QUIC servers just closed give up their UDP sockets now. The library (0.9.0)
 * closes a QUIC server's sockets only when its native object is garbage-collected, not in
 * close(): until a GC runs they stay in the port's SO_REUSEPORT group with nobody reading
 * them, and every new QUIC connection the kernel hashes to one of them (about half, right
 * after a swap) waits for retransmissions — 1 s, 3 s, 7 s… for as long as no GC happens (seen:
 * > 10 s in a quiet process). One major GC releases them (measured with /proc/net/udp: 4
 * sockets on the port → 2). Called after a server is closed for a certificate swap or a
 * replacement, which are rare, so its pause is paid rarely.
 */
import { lastResortGc } from '../runtime/idle-memory.ts';

export function releaseQuicSockets(): void {
  lastResortGc()({ type: 'major' });
}
