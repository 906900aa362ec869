/**
 * Which upstreams reach HTTPS backends without checking their certificates, for the warning the
 * serving applier logs with every applied generation (serving-applier.ts). Pure.
 */
import { type Config, upstreamTls } from '@spooky/config';

/** Most upstreams one warning names. */
const MAX_NAMED = 20;

/**
 * Upstreams with an https backend while certificate verification is off for them (their own
 * `tls.verify_certificates`, else `upstream_tls`'s), at most 20 named, in config order.
 */
export function unverifiedHttpsUpstreams(config: Config): string[] {
  const out: string[] = [];
  for (const [name, upstream] of Object.entries(config.upstream)) {
    if (upstreamTls(config, name).verify_certificates) continue;
    if (upstream.backends.some((b) => b.address.startsWith('https://'))) out.push(name);
    if (out.length === MAX_NAMED) break;
  }
  return out;
}
