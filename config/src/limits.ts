/**
 * Every size and count cap of a config document, in one place; the README's configuration
 * reference states the same numbers. They bound what one accepted document can cost a control
 * plane (parse, store, diff) and a data plane (compile, pools, health probes), and what a
 * refused one costs before it is refused. Chosen well above what an operator writes: a fleet's
 * whole edge in one document is hundreds of routes and a few thousand backends.
 */

/** Largest accepted config document, in bytes, both as submitted and in canonical form. */
export const MAX_CONFIG_BYTES = 4 * 1024 * 1024;

/**
 * Largest YAML document, in bytes of its text. The yaml parser costs about 1 s of CPU and
 * 100 MB of heap per MiB here (measured: 0.8 MiB → 0.5–0.8 s), against ~0.15 s for the same
 * config as JSON; at 4 MiB one request would block a control plane's event loop for seconds.
 * Bigger configs are submitted as JSON (CI pipelines usually generate them anyway).
 */
export const MAX_YAML_BYTES = 1024 * 1024;

/** Deepest nesting of objects and arrays (a real config is about 8 deep). */
export const MAX_NESTING_DEPTH = 64;

/** Most YAML aliases (`*name`) in one document: one per route is fine. */
export const MAX_YAML_ALIASES = 10_000;

/**
 * Largest YAML document after alias expansion, estimated as its JSON size without whitespace;
 * computed on the node tree before anything is materialised.
 */
export const MAX_YAML_EXPANDED_BYTES = MAX_CONFIG_BYTES;

/** Most upstreams (so routes) one config may hold; the route index is built for this size. */
export const MAX_ROUTES = 10_000;

/** Most backends across all upstreams (each costs a data plane a connection pool). */
export const MAX_BACKENDS = 10_000;

/** Most route matchers (headers + query + cookies) across all routes. */
export const MAX_MATCHERS = 20_000;

/** Longest string value, in characters (file paths are ≤ 4096 on Linux). */
export const MAX_STRING_LENGTH = 8_192;

/** Longest object key, in characters (upstream names are ≤ 64). */
export const MAX_KEY_LENGTH = 256;

/** Upper bound of issues reported for one document (the first ones are the useful ones). */
export const MAX_ISSUES = 100;

/** Most `resilience.scoped_rate_limits` rules: each applicable rule costs every request a bucket lookup. */
export const MAX_RATE_LIMIT_RULES = 64;
