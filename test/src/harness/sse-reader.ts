/**
 * A live reader of the control plane's `GET /v1/events?scope=` stream (Server-Sent Events):
 * every frame received is parsed into `{event, data}` (data as JSON when it is JSON) and kept,
 * in order, until `close()`. Resolves once the response head arrived (the subscription is live).
 */
import type { ControlPlane } from './planes.ts';

export interface SseFrame {
  readonly event: string;
  readonly data: unknown;
}

export interface SseReader {
  readonly frames: SseFrame[];
  close(): Promise<void>;
}

function parseFrame(text: string): SseFrame | null {
  let event = 'message';
  const data: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('event:')) event = line.slice(6).trim();
    else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
  }
  if (data.length === 0) return null; // a comment or keep-alive
  const joined = data.join('\n');
  try {
    return { event, data: JSON.parse(joined) as unknown };
  } catch {
    return { event, data: joined };
  }
}

export async function openEvents(cp: ControlPlane, scope: string): Promise<SseReader> {
  const abort = new AbortController();
  const res = await fetch(`${cp.http}/v1/events?scope=${encodeURIComponent(scope)}`, {
    headers: { authorization: `Bearer ${cp.token}`, accept: 'text/event-stream' },
    signal: abort.signal,
  });
  if (res.status !== 200 || !res.body) throw new Error(`GET /v1/events: ${res.status}`);
  const frames: SseFrame[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const pump = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = parseFrame(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (frame) frames.push(frame);
        }
      }
    } catch {
      // aborted by close(), or the control plane went away: the frames so far stay
    }
  })();
  return {
    frames,
    close: async () => {
      abort.abort();
      await pump;
    },
  };
}
