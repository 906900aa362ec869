/**
 * The NACK phase vocabulary is one list on both planes: the data plane sends NACK_PHASES
 * (dataplane/src/telemetry/reason-vocabulary.ts) and the control plane labels
 * spooky_cp_nacks_total{phase} with its copy (controlplane/src/observability/fleet-metrics.ts;
 * the planes never import each other, so this test holds the two together).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NACK_PHASES as CONTROL_PLANE_PHASES } from '../../controlplane/src/observability/fleet-metrics.ts';
import { NACK_PHASES as DATA_PLANE_PHASES } from '../../dataplane/src/telemetry/reason-vocabulary.ts';

test('the control plane labels NACKs with exactly the phases the data plane sends', () => {
  assert.deepEqual([...CONTROL_PLANE_PHASES], [...DATA_PLANE_PHASES]);
});
