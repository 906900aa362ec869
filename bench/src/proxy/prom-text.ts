/**
 * Reading a few samples out of a Prometheus text exposition (the data plane's admin /metrics):
 * enough for the bench's before/after comparisons, not a full parser (no escapes in label
 * values are expected in the families read).
 */

export interface Sample {
  readonly name: string;
  /** The label set as written, `{a="x",b="y"}` or '' for none. */
  readonly labels: string;
  readonly value: number;
}

/** Every sample line (comments and blank lines skipped). */
export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)/.exec(line);
    if (!m) continue;
    out.push({ name: m[1]!, labels: m[2] ?? '', value: Number(m[3]) });
  }
  return out;
}

/** The value of `name` (with exactly `labels`, '' = none), or null when absent. */
export function sampleValue(samples: readonly Sample[], name: string, labels = ''): number | null {
  return samples.find((s) => s.name === name && s.labels === labels)?.value ?? null;
}

/** Label value → sample value of one family, for one label (`{worker="0"}` → "0"). */
export function byLabel(samples: readonly Sample[], name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const re = new RegExp(`${label}="([^"]*)"`);
  for (const s of samples) {
    if (s.name !== name) continue;
    const m = re.exec(s.labels);
    if (m) out.set(m[1]!, (out.get(m[1]!) ?? 0) + s.value);
  }
  return out;
}

/** GETs `<admin>/metrics` (bounded) and parses it. */
export async function scrape(admin: string, timeoutMs = 10_000): Promise<Sample[]> {
  const res = await fetch(`${admin}/metrics`, { signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${admin}/metrics: HTTP ${res.status}`);
  return parseSamples(await res.text());
}
