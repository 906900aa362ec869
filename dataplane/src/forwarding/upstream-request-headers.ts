/**
 * Pure: the header list sent upstream for one request. End-to-end headers only (hop-by-hop
 * and pseudo-headers dropped, `expect` dropped since Spooky does not relay 100-continue);
 * Host passed through (from `:authority` when the client sent no Host); inbound
 * X-Forwarded-For/-Proto/-Host and Forwarded replaced (no trusted proxies are configured yet:
 * the client's claims are not believed); the request id set. No `via`.
 */
import type { HeaderList, RequestHead } from '../http/exchange.ts';
import { endToEndHeaders } from '../http/hop-by-hop.ts';

const REPLACED: ReadonlySet<string> = new Set([
  'expect',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-request-id',
]);

export interface ForwardFacts {
  readonly head: RequestHead;
  readonly remoteAddress: string | null;
  readonly requestId: string;
}

export function upstreamRequestHeaders(facts: ForwardFacts): HeaderList {
  const { head } = facts;
  const headers = endToEndHeaders(head.headers, REPLACED);
  let host: string | null = null;
  for (const [name, value] of headers) {
    if (name === 'host') {
      host = value;
      break;
    }
  }
  if (host === null && head.authority !== null) {
    host = head.authority;
    headers.push(['host', host]);
  }
  if (facts.remoteAddress !== null) headers.push(['x-forwarded-for', facts.remoteAddress]);
  headers.push(['x-forwarded-proto', head.scheme]);
  if (host !== null) headers.push(['x-forwarded-host', host]);
  headers.push(['x-request-id', facts.requestId]);
  return headers;
}
