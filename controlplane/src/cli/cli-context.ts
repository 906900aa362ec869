/** What every command gets: the REST client and the global options. */
import type { ApiClient } from './api-client.ts';
import type { Globals } from './args.ts';

export interface CliContext {
  readonly api: ApiClient;
  readonly globals: Globals;
}

/** `/v1/scopes/{scope}` for the invocation's scope. */
export function scopePath(ctx: CliContext): string {
  return `/v1/scopes/${encodeURIComponent(ctx.globals.scope)}`;
}
