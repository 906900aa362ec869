/**
 * Request ids: an inbound `x-request-id` is kept when it is 1–128 chars of [A-Za-z0-9._-];
 * anything else is replaced by a generated id. The id is forwarded upstream and returned to
 * the client on every response (relayed or local).
 */
import { randomBytes } from 'node:crypto';

const VALID = /^[A-Za-z0-9._-]{1,128}$/;

export function isValidRequestId(value: string): boolean {
  return VALID.test(value);
}

// Ids are a random 64-bit prefix per process + a counter: unique, cheap, not guessable order.
const prefix = randomBytes(8).toString('hex');
let counter = 0;

export function generateRequestId(): string {
  counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
  return `${prefix}-${counter.toString(36)}`;
}

/** The id for a request given its inbound header value (null when absent). */
export function requestIdFor(inbound: string | null): string {
  return inbound !== null && isValidRequestId(inbound) ? inbound : generateRequestId();
}
