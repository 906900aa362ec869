/**
 * A Prober for tests: answers every probe with the current `result` (change it between
 * probes to simulate a backend going down or coming back), records calls and closes.
 */
import type { ProbeResult } from '../health-state.ts';
import type { ProbeRequest, Prober, ProberFactory, ProbeTransportSettings } from '../prober.ts';

export class FakeProber implements Prober {
  readonly address: string;
  readonly settings: ProbeTransportSettings | null;
  result: ProbeResult = { kind: 'response', status: 200 };
  readonly calls: ProbeRequest[] = [];
  closed = false;

  constructor(address = 'http://127.0.0.1:1', settings: ProbeTransportSettings | null = null) {
    this.address = address;
    this.settings = settings;
  }

  probe(request: ProbeRequest): Promise<ProbeResult> {
    this.calls.push(request);
    return Promise.resolve(this.result);
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}

/** A ProberFactory that keeps every prober it built, by address (latest last). */
export function fakeProberFactory(): { factory: ProberFactory; built: FakeProber[]; latest(address: string): FakeProber | undefined } {
  const built: FakeProber[] = [];
  return {
    built,
    factory: (address, settings) => {
      const p = new FakeProber(address, settings);
      built.push(p);
      return p;
    },
    latest: (address) => built.filter((p) => p.address === address).at(-1),
  };
}
