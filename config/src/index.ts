/** @spooky/config: the config contract shared by the control plane and data planes. */
export { type BackendAddress, parseBackendAddress } from './backend-address.ts';
export { canonicalJson, DIGEST_PATTERN, digest } from './canonical.ts';
export { DEFAULTS, normalizePathPrefix, normalizeRouteHost } from './normalize-config.ts';
export { type ConfigFormat, MAX_CONFIG_BYTES, parseConfig, parseConfigText } from './parse-config.ts';
export { type ConfigInput, ConfigInputSchema, LB_TYPES, SCHEMA_VERSION } from './schema.ts';
export { escapePointer, MAX_ROUTES } from './semantic-checks.ts';
export type * from './types.ts';
