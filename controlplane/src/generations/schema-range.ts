/**
 * Can the connected nodes of a scope run a generation? Pure. A generation's config schema is
 * its top-level `version`; a node declares [schemaMin, schemaMax] in its Hello. Nodes that are
 * disconnected do not count (they get re-checked by the data plane itself on reconnect).
 */
import type { NodeView } from './ports.ts';

export interface SchemaMismatch {
  readonly nodeId: string;
  readonly schemaMin: number;
  readonly schemaMax: number;
}

/** `version`: the generation's config schema version (stored-configs.ts storedVersion). */
export function schemaMismatches(
  version: number,
  nodes: readonly NodeView[],
): { readonly version: number; readonly nodes: SchemaMismatch[] } {
  const bad = nodes
    .filter((n) => n.state !== 'disconnected' && (version > n.schemaMax || version < n.schemaMin))
    .map((n) => ({ nodeId: n.nodeId, schemaMin: n.schemaMin, schemaMax: n.schemaMax }));
  return { version, nodes: bad };
}
