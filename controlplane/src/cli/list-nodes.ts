/** Every node of a scope, following GET /v1/nodes pages (`next`), at most MAX_PAGES of them. */
import type { ApiClient } from './api-client.ts';
import type { FleetNode } from './fleet-verdict.ts';

const MAX_PAGES = 1000;

export async function listNodes<T extends FleetNode>(api: ApiClient, scope: string): Promise<T[]> {
  const items: T[] = [];
  let after: string | null = null;
  for (let page = 0; page < MAX_PAGES; page++) {
    const query: string = `scope=${encodeURIComponent(scope)}${after === null ? '' : `&after=${encodeURIComponent(after)}`}`;
    const { body } = await api.call<{ items?: T[]; next?: string | null }>('GET', `/v1/nodes?${query}`);
    items.push(...(body.items ?? []));
    after = body.next ?? null;
    if (after === null) break;
  }
  return items;
}
