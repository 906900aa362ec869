/**
 * The certificates a mutual-TLS ConfigSync needs, for suites and the demo: a CA for the control
 * plane's gRPC certificate (`DNS:localhost, IP:127.0.0.1`), a node CA, and one node certificate per
 * node naming `spiffe://spooky/scope/<scope>/node/<id>`; plus the flags each plane takes for them.
 */
import { makeCa, makeLeaf, type Pem } from './pki.ts';

export interface GrpcPki {
  /** CA of the control plane's gRPC certificate (the data planes' --ca-file). */
  readonly cpCa: Pem;
  /** The node CA (the control plane's --grpc-client-ca). */
  readonly nodeCa: Pem;
  /** The control plane's gRPC server certificate. */
  readonly server: Pem;
  /** `--grpc-tls-cert … --grpc-tls-key … --grpc-client-ca …` for ControlPlane.start({extra}). */
  readonly controlPlaneFlags: readonly string[];
  /** A node certificate for `nodeId` in each of `scopes` (file name `node-<nodeId>`). */
  node(nodeId: string, scopes: readonly string[]): Pem;
  /** `--ca-file … --cert … --key …` for DataPlane.start({extra}). */
  dataPlaneFlags(node: Pem): string[];
}

/** Writes the CAs and the server certificate under `dir`. */
export function makeGrpcPki(dir: string): GrpcPki {
  const cpCa = makeCa(dir, 'cp-ca');
  const nodeCa = makeCa(dir, 'node-ca');
  const server = makeLeaf(dir, 'cp-grpc', 'control-plane', 'DNS:localhost,IP:127.0.0.1', cpCa);
  return {
    cpCa,
    nodeCa,
    server,
    controlPlaneFlags: ['--grpc-tls-cert', server.cert, '--grpc-tls-key', server.key, '--grpc-client-ca', nodeCa.cert],
    node: (nodeId, scopes) =>
      makeLeaf(dir, `node-${nodeId}`, nodeId, scopes.map((s) => `URI:spiffe://spooky/scope/${s}/node/${encodeURIComponent(nodeId)}`).join(','), nodeCa),
    dataPlaneFlags: (node) => ['--ca-file', cpCa.cert, '--cert', node.cert, '--key', node.key],
  };
}
