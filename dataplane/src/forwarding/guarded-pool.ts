/**
 * Every undici Pool of the data plane (traffic and probes) is made here, so that no undici
 * object can emit an 'error' nobody listens to. undici's Client emits 'error' when a request
 * handler throws while undici fails the request (core/util.js `errorRequest`), and a Pool
 * does not forward its Clients' errors: without a listener on each Client that becomes an
 * uncaught exception and kills the process. Such an error is a bug on our side or undici's;
 * it is reported to the crash barrier, and the request concerned has already been failed.
 * ('error' is not in undici's typed event map, hence the EventEmitter view.)
 */
import { Client, Pool } from 'undici';
import { reportInternalError } from '../barrier/internal-error.ts';

export function createGuardedPool(address: string, options: Pool.Options): Pool {
  const pool = new Pool(address, {
    ...options,
    factory: (origin, opts) => {
      const client = new Client(origin, opts);
      (client as unknown as NodeJS.EventEmitter).on('error', (err: Error) => reportInternalError('upstream_pool', err));
      return client;
    },
  });
  (pool as unknown as NodeJS.EventEmitter).on('error', (err: unknown) => reportInternalError('upstream_pool', err));
  return pool;
}
