import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import type { NodeState, NodeView } from '../generations/ports.ts';
import { watchFleet } from './fleet-metrics.ts';

function node(nodeId: string, scope: string, state: NodeState, seq: number | null): NodeView {
  return {
    nodeId,
    bootId: 'b',
    scope,
    labels: {},
    schemaMin: 1,
    schemaMax: 1,
    build: 't',
    state,
    serving: seq === null ? null : { seq, digest: `sha256:${seq}` },
    source: 'control-plane',
    connectedAt: '2026-01-01T00:00:00Z',
    lastSeenAt: '2026-01-01T00:00:00Z',
    lastAck: null,
    lastNack: null,
  } as NodeView;
}

describe('control-plane fleet metrics', () => {
  it('count nodes by scope and state, the seq each live node serves, and NACKs by phase', async () => {
    const registry = new Registry();
    let nodes: NodeView[] = [node('a', 'prod', 'connected', 4), node('b', 'prod', 'stale', 3), node('c', 'prod', 'disconnected', 2), node('d', 'dev', 'connected', null)];
    const countNack = watchFleet(registry, { listNodes: () => nodes });
    countNack('prod', 'compile');
    countNack('prod', 'compile');
    countNack('prod', 'made-up');
    let text = await registry.metrics();
    assert.match(text, /spooky_cp_nodes\{scope="prod",state="connected"\} 1/);
    assert.match(text, /spooky_cp_nodes\{scope="prod",state="stale"\} 1/);
    assert.match(text, /spooky_cp_nodes\{scope="prod",state="disconnected"\} 1/);
    assert.match(text, /spooky_cp_nodes\{scope="dev",state="stale"\} 0/);
    assert.match(text, /spooky_cp_node_serving_seq\{scope="prod",node="a"\} 4/);
    assert.match(text, /spooky_cp_node_serving_seq\{scope="prod",node="b"\} 3/);
    assert.match(text, /spooky_cp_node_serving_seq\{scope="dev",node="d"\} 0/);
    assert.doesNotMatch(text, /node="c"/, 'a disconnected node is not in the serving gauge');
    assert.match(text, /spooky_cp_nacks_total\{scope="prod",phase="compile"\} 2/);
    assert.match(text, /spooky_cp_nacks_total\{scope="prod",phase="other"\} 1/);
    // Read at each scrape: a node gone from the records is gone from the gauges.
    nodes = [node('a', 'prod', 'connected', 5)];
    text = await registry.metrics();
    assert.match(text, /spooky_cp_node_serving_seq\{scope="prod",node="a"\} 5/);
    assert.doesNotMatch(text, /node="b"/);
    assert.doesNotMatch(text, /scope="dev"/);
  });
});
