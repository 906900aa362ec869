/**
 * Test fixture (never imported by production code): a node's Hello facts with ordinary
 * defaults — scope `default`, schema range 1..1, serving nothing — overridable per test.
 */
import type { NodeHelloFacts } from '../distribution/ports.ts';

export function helloFacts(nodeId: string, overrides: Partial<NodeHelloFacts> = {}): NodeHelloFacts {
  return {
    nodeId,
    bootId: `${nodeId}-boot`,
    scope: 'default',
    labels: {},
    schemaMin: 1,
    schemaMax: 1,
    build: 'test',
    serving: null,
    source: 'none',
    at: new Date(),
    ...overrides,
  };
}
