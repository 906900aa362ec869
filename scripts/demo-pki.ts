/**
 * The demo's development PKI under .demo/pki, made by the same code as `spookyctl pki`
 * (init-ca, server, node): `ca.crt`, `cp.crt`/`cp.key` (the control plane's certificate for REST
 * and gRPC) and `node-<scope>-<id>.crt/.key` (the data plane's client certificate). Files are
 * reused while they are valid for more than a week; otherwise the whole set is issued again (a
 * new CA invalidates the old leaves, so they are never mixed). Key contents are never printed.
 */
import { X509Certificate } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type PkiAction, type PkiCommand, profileOf } from '../controlplane/src/cli/commands/pki-commands.ts';
import { issue } from '../controlplane/src/cli/commands/pki-openssl.ts';

export interface DemoPki {
  readonly ca: string;
  readonly cpCert: string;
  readonly cpKey: string;
  readonly nodeCert: string;
  readonly nodeKey: string;
}

const MIN_VALID_MS = 7 * 24 * 3600 * 1000;

function usable(cert: string, key: string): boolean {
  if (!existsSync(cert) || !existsSync(key)) return false;
  try {
    return Date.parse(new X509Certificate(readFileSync(cert)).validTo) - Date.now() > MIN_VALID_MS;
  } catch {
    return false;
  }
}

/** Creates (or reuses) the demo PKI in `dir` for node `nodeId` of `scope`. */
export async function ensureDemoPki(dir: string, scope: string, nodeId: string): Promise<DemoPki> {
  const base = `node-${scope}-${nodeId}`;
  const pki: DemoPki = {
    ca: join(dir, 'ca.crt'),
    cpCert: join(dir, 'cp.crt'),
    cpKey: join(dir, 'cp.key'),
    nodeCert: join(dir, `${base}.crt`),
    nodeKey: join(dir, `${base}.key`),
  };
  const fresh = usable(pki.ca, join(dir, 'ca.key')) && usable(pki.cpCert, pki.cpKey) && usable(pki.nodeCert, pki.nodeKey);
  if (fresh) return pki;
  const cmd = (action: PkiAction, nodeIdFlag: string | null = null): PkiCommand => ({
    action,
    dir,
    name: null,
    san: null,
    nodeId: nodeIdFlag,
    days: null,
    force: true,
  });
  await issue(dir, profileOf(cmd('init-ca'), scope), true);
  await issue(dir, profileOf(cmd('server'), scope), true);
  await issue(dir, profileOf(cmd('node', nodeId), scope), true);
  return pki;
}
