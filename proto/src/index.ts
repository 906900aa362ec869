/**
 * @spooky/proto: the ConfigSync wire contract. Both planes import the generated messages and
 * service definitions from here, never from gen/ directly.
 */
export * from '../gen/spooky/v1/config_sync.ts';

/**
 * Largest gRPC message either side sends or accepts. Push payloads above PUSH_CHUNK_BYTES are
 * split into Chunk messages so a generation of any size fits under this limit.
 */
export const MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const PUSH_CHUNK_BYTES = 1024 * 1024;
/**
 * Push.encoding of a zstd-compressed payload (Push.decoded_size = the canonical JSON's size).
 * Sent only to a node whose Hello.accept_encodings lists it; "" (identity) is always understood.
 */
export const PUSH_ENCODING_ZSTD = 'zstd';
/**
 * HTTP/2 flow-control window a data plane opens for its ConfigSync connection
 * (grpc-js 'grpc-node.flow_control_window'). HTTP/2's default is 64 KiB, so a multi-MiB push
 * would otherwise stall for a WINDOW_UPDATE round trip every 64 KiB; with 8 MiB a whole push of
 * the largest generation (4 MiB canonical, less once encoded) is in flight at once. It bounds
 * what the control plane may have unacknowledged on that connection, nothing else.
 */
export const CONFIG_SYNC_FLOW_CONTROL_WINDOW = 8 * 1024 * 1024;
/** Most issues carried by one Nack. */
export const MAX_NACK_ISSUES = 50;
/**
 * Upper bounds (ms) of the latency buckets in GenerationHealth.latency_bucket_counts: one layout
 * for every node, so the control plane can sum histograms and read the p99 of a whole cohort
 * (docs/rollout.md §3). It reaches beyond the largest `p99.max_ms` a rollout policy accepts.
 * Changing it is a wire change: a control plane drops windows whose count length differs.
 */
export const LATENCY_BUCKET_BOUNDS_MS: readonly number[] = Object.freeze([
  1, 2, 5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 7500, 10000, 20000, 30000, 60000,
]);
