/**
 * Input schema of the forwarding header policies: `forwarded_headers` (global, and per
 * upstream overriding it field by field), `tracing` (global), and the per-upstream
 * `host_policy` / `host_rewrite` keys (spread into UpstreamSchema).
 */
import { Type } from '@sinclair/typebox';

const closed = { additionalProperties: false } as const;

export const FORWARDED_MODES = ['overwrite', 'append', 'preserve'] as const;
export const HOST_POLICIES = ['pass_through', 'rewrite', 'upstream'] as const;

/** An RFC 9110 token: a Via pseudonym is sent as one. */
export const TOKEN_PATTERN = "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$";

export const ForwardedHeadersSchema = Type.Object(
  {
    mode: Type.Optional(
      Type.Union(
        FORWARDED_MODES.map((m) => Type.Literal(m)),
        {
          description:
            'overwrite (default): inbound Forwarded / X-Forwarded-* dropped, ours set; append: our hop appended to the chain a trusted proxy sent; preserve: a trusted proxy\'s headers passed unchanged, nothing added.',
        },
      ),
    ),
    trusted_proxies: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 1024,
        description: 'CIDRs (IPv4, IPv6) of peers whose Forwarded / X-Forwarded-* are believed. Default none.',
      }),
    ),
    via: Type.Optional(
      Type.Union([Type.String({ pattern: TOKEN_PATTERN }), Type.Literal(false)], {
        description: 'Pseudonym in the Via entry added to requests (`3 spooky`); false = no Via. Default spooky.',
      }),
    ),
  },
  closed,
);

export const TracingSchema = Type.Object(
  {
    enabled: Type.Optional(Type.Boolean({ description: 'W3C traceparent propagated or generated. Default true.' })),
    sample_percent: Type.Optional(
      Type.Number({ minimum: 0, maximum: 100, description: 'Share of generated traces with the sampled flag (decided from the trace id). Default 100.' }),
    ),
  },
  closed,
);

/** Per-upstream keys, spread into UpstreamSchema. */
export const UPSTREAM_FORWARDING_KEYS = {
  host_policy: Type.Optional(
    Type.Union(
      HOST_POLICIES.map((p) => Type.Literal(p)),
      { description: "Host sent upstream: pass_through (default: the client's), rewrite (host_rewrite), upstream (the backend's host[:port])." },
    ),
  ),
  host_rewrite: Type.Optional(Type.String({ minLength: 1, maxLength: 261, description: 'Host sent when host_policy is rewrite (required then, refused otherwise).' })),
  forwarded_headers: Type.Optional(ForwardedHeadersSchema),
};
