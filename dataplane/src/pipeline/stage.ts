/**
 * The Stage contract. A stage does one step of the request's life: it returns `CONTINUE`, or a
 * LocalReply to end the request with, or throws a SpookyError. It never writes a local reply
 * or telemetry itself — the runner's one error funnel does, then recordOutcome runs.
 * (streamResponse is the one stage that writes the relayed response to the sink.)
 */
import type { LocalReply } from '../http/local-reply.ts';
import type { RequestContext } from './context.ts';

export const CONTINUE = 'continue';
export type StageResult = typeof CONTINUE | LocalReply;

export interface Stage {
  readonly name: string;
  run(ctx: RequestContext): StageResult | Promise<StageResult>;
}
