/**
 * Decorates a backend's transport so every try updates that backend's BackendStats (read by
 * least-connections and latency-aware balancing): `begin` at dispatch; at the response head a
 * latency sample (head time − dispatch time; 5xx not sampled); `end` exactly once when the try
 * is over — body ended or failed, response aborted, or failure before the head. A failure
 * before the head also raises the EWMA (backend-stats.ts), except a client abort, which says
 * nothing about the backend.
 */
import { SpookyError } from '../errors.ts';
import type { BackendTransport, BodyConsumer, UpstreamRequest, UpstreamResponse } from '../http/backend-transport.ts';
import type { BackendStats } from '../runtime/backend-stats.ts';

export function withBackendStats(transport: BackendTransport, stats: BackendStats, now: () => number = performance.now.bind(performance)): BackendTransport {
  return {
    protocol: transport.protocol,
    close: () => transport.close(),
    async forward(request: UpstreamRequest): Promise<UpstreamResponse> {
      const startedAt = now();
      stats.begin();
      let ended = false;
      const end = (): void => {
        if (ended) return;
        ended = true;
        stats.end();
      };
      let response: UpstreamResponse;
      try {
        response = await transport.forward(request);
      } catch (err) {
        end();
        const clientGone = err instanceof SpookyError && err.code === 'client_aborted';
        if (!clientGone) stats.recordFailure(now() - startedAt);
        throw err;
      }
      stats.recordHead(response.status, now() - startedAt);
      return {
        status: response.status,
        headers: response.headers,
        stream(consumer: BodyConsumer): void {
          response.stream({
            data: (chunk) => consumer.data(chunk),
            end(trailers) {
              end();
              consumer.end(trailers);
            },
            error(error) {
              end();
              consumer.error(error);
            },
          });
        },
        resume: () => response.resume(),
        abort(): void {
          end();
          response.abort();
        },
      };
    },
  };
}
