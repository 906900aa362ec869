/**
 * `headers` (as built by upstreamRequestHeaders) with the traceparent replaced by `value`: with
 * span export each try sends its own span's context. A copy (one array per try, O(headers));
 * `headers` is not changed; tracestate is kept as it is.
 */
import type { HeaderList } from '../http/exchange.ts';

export function withTraceparent(headers: HeaderList, value: string): HeaderList {
  const copy: HeaderList = [];
  let set = false;
  for (const entry of headers) {
    if (entry[0] !== 'traceparent') copy.push(entry);
    else if (!set) {
      copy.push(['traceparent', value]);
      set = true;
    }
  }
  if (!set) copy.push(['traceparent', value]);
  return copy;
}
