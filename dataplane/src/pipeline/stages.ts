/**
 * THE ordered stage list: the request's life, written down once. Change it together with the
 * diagram in README.md. recordOutcome is not in the list: the runner runs it exactly once
 * after the list, whatever happened (see request-handler.ts).
 */
import { runAttempts } from '../attempts/run-attempts.ts';
import { mirrorRequest } from '../mirroring/mirror-request.ts';
import { resolveRoute } from '../routing/resolve-route.ts';
import { screenRequest } from '../screening/screen-request.ts';
import { streamResponse } from '../streaming/stream-response.ts';
import type { Stage } from './stage.ts';

export const STAGES: readonly Stage[] = [
  screenRequest, // 1: 400 / 413 / 431
  resolveRoute, // 2: 404 no_route
  // 3: admitRequest (rate limits, concurrency caps) slots in here
  mirrorRequest, // 3b: fire-and-forget copy to the route's mirror upstream (never replies)
  runAttempts, // 4: pick → forward (→ retry / hedge later): 502 / 503 / 504
  streamResponse, // 5: relay head, body, trailers (reset on failure after the head)
];
