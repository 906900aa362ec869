/** @spooky/config: the config contract shared by the control plane and data planes. */
export { type BackendAddress, parseBackendAddress } from './backend-address.ts';
export { type BehaviourResult, behaviourDiff, MAX_BEHAVIOUR_REQUESTS, type RoutedTo } from './behaviour-diff.ts';
export { canonicalJson, DIGEST_PATTERN, digest } from './canonical.ts';
export { type Cidr, type IpWords, parseCidr, parseIp, wordMask } from './cidr.ts';
export { type Change, type ChangeEntity, type ChangeOp, diff, diffDocuments } from './diff.ts';
export { FORWARDED_MODES, HOST_POLICIES } from './forwarding-schema.ts';
export {
  MAX_BACKENDS,
  MAX_CONFIG_BYTES,
  MAX_ISSUES,
  MAX_KEY_LENGTH,
  MAX_MATCHERS,
  MAX_NESTING_DEPTH,
  MAX_RATE_LIMIT_RULES,
  MAX_ROUTES,
  MAX_STRING_LENGTH,
  MAX_YAML_ALIASES,
  MAX_YAML_BYTES,
  MAX_YAML_EXPANDED_BYTES,
} from './limits.ts';
export { CLIENT_AUTH_DEFAULTS } from './listener-tls-types.ts';
export { DEFAULTS, normalizePathPrefix, normalizeRouteHost } from './normalize-config.ts';
export { FORWARDING_DEFAULTS } from './normalize-forwarding.ts';
export { OBSERVABILITY_DEFAULTS } from './normalize-observability.ts';
export { RESILIENCE_DEFAULTS } from './normalize-resilience.ts';
export { type ConfigFormat, parseConfig, parseConfigText } from './parse-config.ts';
export { escapePointer } from './pointer.ts';
export { isSecretKey, REDACTED, redactSecrets } from './redact-secrets.ts';
export { RATE_LIMIT_SCOPES, RETRY_CONDITIONS } from './resilience-schema.ts';
export { type ProbeRequest, type ReferenceResolver, referenceResolver, resolveReference } from './route-reference.ts';
export { type ConfigInput, ConfigInputSchema, LB_TYPES, SCHEMA_VERSION } from './schema.ts';
export { TIMEOUT_ALIASES, TIMEOUT_ORDER, type TimeoutKey } from './timeouts.ts';
export type * from './types.ts';
export { upstreamPolicy } from './upstream-policy.ts';
export { type ResolvedUpstreamTls, type UpstreamTlsOverride, upstreamTls } from './upstream-tls.ts';
