/**
 * Pure: which listeners a new generation keeps, opens and closes.
 *
 * A desired listener whose address, port and certificate/key bytes equal an open one keeps
 * that listener's sockets. One that differs from an open listener only in its default
 * certificate/key (same address, same non-zero port) *swaps* it: the open listener keeps its
 * TCP socket and gets a new QUIC server beside the old one (serving-listener.ts). A desired
 * listener that needs a port another open, leaving listener holds (same port number, another
 * address: 0.0.0.0 overlaps everything) can only open after that one closed — the TCP port
 * cannot be bound twice — so it is a *replacement*. Every other new listener opens while the
 * old ones keep serving. Port 0 (ephemeral) never conflicts.
 */

export interface ListenerIdentity {
  readonly address: string;
  readonly port: number;
  readonly cert: Uint8Array;
  readonly key: Uint8Array;
}

export interface ListenerPlan {
  /** [desired index, current index] pairs whose sockets stay as they are. */
  readonly keep: ReadonlyArray<readonly [desired: number, current: number]>;
  /** [desired index, current index] pairs: same address and port, a new default certificate. */
  readonly swap: ReadonlyArray<readonly [desired: number, current: number]>;
  /** Desired indices opened before anything closes. */
  readonly openFirst: readonly number[];
  /** Current indices closed right before `openAfterClose` (ports they hold are reused). */
  readonly closeForReplace: readonly number[];
  /** Desired indices opened once `closeForReplace` closed. */
  readonly openAfterClose: readonly number[];
  /** Current indices closed after the swap (no longer named, no port reused). */
  readonly closeAfterSwap: readonly number[];
}

export function planListeners(current: readonly ListenerIdentity[], desired: readonly ListenerIdentity[]): ListenerPlan {
  const keep: Array<readonly [number, number]> = [];
  const keptCurrent = new Set<number>();
  const keptDesired = new Set<number>();
  desired.forEach((d, di) => {
    const ci = current.findIndex((c, i) => !keptCurrent.has(i) && sameIdentity(c, d));
    if (ci >= 0) {
      keep.push([di, ci]);
      keptCurrent.add(ci);
      keptDesired.add(di);
    }
  });
  const swap: Array<readonly [number, number]> = [];
  desired.forEach((d, di) => {
    if (keptDesired.has(di) || d.port === 0) return;
    const ci = current.findIndex((c, i) => !keptCurrent.has(i) && c.address === d.address && c.port === d.port);
    if (ci >= 0) {
      swap.push([di, ci]);
      keptCurrent.add(ci);
      keptDesired.add(di);
    }
  });
  const leaving = current.map((_, i) => i).filter((i) => !keptCurrent.has(i));
  const arriving = desired.map((_, i) => i).filter((i) => !keptDesired.has(i));
  const portsInUse = new Set(leaving.map((i) => (current[i] as ListenerIdentity).port).filter((p) => p !== 0));
  const openAfterClose = arriving.filter((i) => portsInUse.has((desired[i] as ListenerIdentity).port));
  const openFirst = arriving.filter((i) => !openAfterClose.includes(i));
  const replacedPorts = new Set(openAfterClose.map((i) => (desired[i] as ListenerIdentity).port));
  const closeForReplace = leaving.filter((i) => replacedPorts.has((current[i] as ListenerIdentity).port));
  const closeAfterSwap = leaving.filter((i) => !closeForReplace.includes(i));
  return { keep, swap, openFirst, closeForReplace, openAfterClose, closeAfterSwap };
}

function sameIdentity(a: ListenerIdentity, b: ListenerIdentity): boolean {
  return a.address === b.address && a.port === b.port && bytesEqual(a.cert, b.cert) && bytesEqual(a.key, b.key);
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return Buffer.compare(a, b) === 0;
}
