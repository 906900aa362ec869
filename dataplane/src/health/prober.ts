/**
 * The Prober port: how the active checker sends one health probe to one backend without
 * knowing the transport. forwarding/undici-prober.ts implements it with its own undici Pool
 * per backend (never the traffic pool, so probes neither queue behind traffic nor keep a
 * traffic connection warm); tests fake it.
 */
import type { ProbeResult } from './health-state.ts';

export interface ProbeRequest {
  /** Request target, e.g. `/health`. */
  readonly path: string;
  /** The whole probe (connect + head) must finish within this; else `{kind: 'timeout'}`. */
  readonly timeoutMs: number;
  /** Aborted when the checker stops; the result is then ignored. */
  readonly signal: AbortSignal;
}

export interface Prober {
  /** `GET <backend><path>`; never rejects: every failure is a ProbeResult. */
  probe(request: ProbeRequest): Promise<ProbeResult>;
  /** Closes the probe connections. */
  close(): Promise<void>;
}

/** TLS and connect settings shared with the backend's traffic transport. */
export interface ProbeTransportSettings {
  readonly connectTimeoutMs: number;
  readonly verifyCertificates: boolean;
  /** PEM text of the trusted CAs, null = system roots. */
  readonly ca: string | null;
  /** SNI and verification name; null or absent = the backend host. */
  readonly serverName?: string | null;
  /** Client certificate (upstream mTLS); null or absent = none. */
  readonly clientCert?: { readonly cert: string; readonly key: string } | null;
}

/** Builds the Prober of one backend address (`http(s)://host:port`). */
export type ProberFactory = (address: string, settings: ProbeTransportSettings) => Prober;
