/**
 * Node identity from a data plane's client certificate, and the decision whether a Hello may
 * open a session with it. Pure: the session (config-sync-session.ts) passes the peer
 * certificate's `subjectaltname` (Node's format, e.g. `URI:spiffe://spooky/scope/prod/node/n1,
 * DNS:x`) and acts on the verdict.
 *
 * Identity forms a certificate may carry (several per certificate: one node may serve several
 * scopes, each entry names one scope and one node id):
 *   URI  spiffe://spooky/scope/<scope>/node/<node-id>   (the primary form; node id URI-decoded)
 *   DNS  <node-id>.<scope>.node.spooky                  (for CAs that cannot issue URI SANs; only
 *                                                        node ids that are one DNS label)
 * Anything else in the SAN (other URIs, other DNS names, IPs) is ignored. A certificate naming
 * no identity of these forms is `bad_identity`.
 *
 * The chain itself (issuer = node CA, validity dates) is verified by TLS before this runs; this
 * only binds the verified certificate to the Hello's scope and node id.
 */

export interface NodeIdentity {
  readonly scope: string;
  readonly nodeId: string;
}

export type NodeAuthReason = 'no_certificate' | 'bad_identity' | 'scope_not_allowed' | 'node_id_mismatch';

export type NodeAuthVerdict =
  | { readonly ok: true; readonly identity: NodeIdentity }
  | { readonly ok: false; readonly reason: NodeAuthReason; readonly message: string };

const SCOPE = '[a-z0-9][a-z0-9-]{0,62}';
const SPIFFE = new RegExp(`^spiffe://spooky/scope/(${SCOPE})/node/([^/?#]+)$`);
const DNS_FORM = new RegExp(`^([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)\\.(${SCOPE})\\.node\\.spooky$`);

/** The SPIFFE URI naming `nodeId` in `scope` (what a node certificate's URI SAN should hold). */
export function nodeSpiffeId(scope: string, nodeId: string): string {
  return `spiffe://spooky/scope/${scope}/node/${encodeURIComponent(nodeId)}`;
}

/**
 * The entries of a Node `subjectaltname` string as [type, value] pairs. Node joins entries with
 * ", " and JSON-quotes a value that holds a comma, a quote or other special characters.
 */
export function parseSubjectAltName(san: string): Array<[string, string]> {
  const entries: Array<[string, string]> = [];
  let i = 0;
  while (i < san.length) {
    while (san[i] === ' ' || san[i] === ',') i++;
    const colon = san.indexOf(':', i);
    if (colon < 0) break;
    const type = san.slice(i, colon);
    i = colon + 1;
    let value: string;
    if (san[i] === '"') {
      let end = i + 1;
      while (end < san.length && san[end] !== '"') end += san[end] === '\\' ? 2 : 1;
      try {
        value = JSON.parse(san.slice(i, end + 1)) as string;
      } catch {
        value = san.slice(i + 1, end);
      }
      i = end + 1;
    } else {
      const comma = san.indexOf(', ', i);
      const end = comma < 0 ? san.length : comma;
      value = san.slice(i, end);
      i = end;
    }
    entries.push([type, value]);
  }
  return entries;
}

/** The node identities a certificate's `subjectaltname` names (see the module comment for the forms). */
export function identitiesFromSan(san: string): NodeIdentity[] {
  const out: NodeIdentity[] = [];
  for (const [type, value] of parseSubjectAltName(san)) {
    if (type === 'URI') {
      const m = SPIFFE.exec(value);
      if (m?.[1] === undefined || m[2] === undefined) continue;
      let nodeId: string;
      try {
        nodeId = decodeURIComponent(m[2]);
      } catch {
        continue;
      }
      out.push({ scope: m[1], nodeId });
    } else if (type === 'DNS') {
      const m = DNS_FORM.exec(value.toLowerCase());
      if (m?.[1] !== undefined && m[2] !== undefined) out.push({ scope: m[2], nodeId: m[1] });
    }
  }
  return out;
}

/**
 * May a node presenting a certificate with `san` (undefined = no client certificate) open a
 * session for `scope` as `nodeId`? ok only when one identity names both. A refusal's message
 * says what the certificate allows, so an operator can tell a wrong certificate from a wrong
 * flag; it never holds key material (a SAN is public).
 */
export function authorizeNode(san: string | undefined, scope: string, nodeId: string): NodeAuthVerdict {
  if (san === undefined) {
    return { ok: false, reason: 'no_certificate', message: 'no client certificate: start the data plane with --ca-file, --cert and --key (a node certificate from the node CA)' };
  }
  const ids = identitiesFromSan(san);
  if (ids.length === 0) {
    return {
      ok: false,
      reason: 'bad_identity',
      message: "the client certificate names no node identity (want a SAN URI spiffe://spooky/scope/<scope>/node/<node-id>)",
    };
  }
  const match = ids.find((id) => id.scope === scope && id.nodeId === nodeId);
  if (match) return { ok: true, identity: match };
  const allowed = ids.map((id) => `scope ${id.scope} as node ${id.nodeId}`).join('; ');
  if (!ids.some((id) => id.scope === scope)) {
    return { ok: false, reason: 'scope_not_allowed', message: `the client certificate does not allow scope ${scope}: it allows ${allowed}` };
  }
  return { ok: false, reason: 'node_id_mismatch', message: `Hello node id ${nodeId} does not match the client certificate: it allows ${allowed}` };
}
