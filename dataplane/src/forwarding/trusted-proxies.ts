/**
 * The trusted-proxy matcher of one `forwarded_headers` block, compiled once per generation
 * from its CIDRs (validated by the config checks). `trusts(peer)` answers whether the direct
 * peer's inbound Forwarded / X-Forwarded-* may be believed.
 *
 * Cost per call: one parse of the peer address (no allocation for IPv4 beyond the 4-word
 * tuple) and a scan of the blocks (a handful in practice; masks precomputed). No list at all
 * (the default) answers false without parsing.
 */
import { type IpWords, parseCidr, parseIp, wordMask } from '@spooky/config';

export interface TrustedProxies {
  /** Number of blocks (0 = nobody is trusted). */
  readonly size: number;
  /** True when `peer` (an address as the socket reports it, null = unknown) is inside a block. */
  trusts(peer: string | null): boolean;
}

interface Block {
  readonly words: IpWords;
  readonly masks: IpWords;
}

const NOBODY: TrustedProxies = { size: 0, trusts: () => false };

export function compileTrustedProxies(cidrs: readonly string[]): TrustedProxies {
  const blocks: Block[] = [];
  for (const text of cidrs) {
    const cidr = parseCidr(text.trim());
    if (cidr === null) throw new Error(`trusted proxy '${text}' is not a CIDR (the config checks refuse it)`);
    const masks: IpWords = [wordMask(cidr.bits), wordMask(cidr.bits - 32), wordMask(cidr.bits - 64), wordMask(cidr.bits - 96)];
    blocks.push({ words: cidr.words, masks });
  }
  if (blocks.length === 0) return NOBODY;
  return {
    size: blocks.length,
    trusts(peer: string | null): boolean {
      if (peer === null) return false;
      const ip = parseIp(peer);
      if (ip === null) return false;
      for (const { words, masks } of blocks) {
        if (
          ((ip[0] & masks[0]) >>> 0) === words[0] &&
          ((ip[1] & masks[1]) >>> 0) === words[1] &&
          ((ip[2] & masks[2]) >>> 0) === words[2] &&
          ((ip[3] & masks[3]) >>> 0) === words[3]
        ) {
          return true;
        }
      }
      return false;
    },
  };
}
