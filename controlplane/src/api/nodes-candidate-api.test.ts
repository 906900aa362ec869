/**
 * GET /v1/nodes and /v1/nodes/{id} show the candidate a node holds beside what it serves
 * (staged rollout, issue 12), over the real store and recorder: set by the Hello, by a
 * candidate ACK (with the push's share) and by each Report; cleared by a serve ACK (a SERVE
 * push or a Promote drops any candidate) and by a Report holding none; a Report that does not
 * say (an older recorder caller) keeps it. A candidate is never what the node serves.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { helloFacts } from '../testing/node-facts.ts';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

interface NodeBody {
  readonly nodeId: string;
  readonly serving: { seq: number; digest: string } | null;
  readonly candidate: { seq: number; digest: string; percent: number } | null;
}

describe('GET /v1/nodes: the candidate', () => {
  let kit: ApiKit;
  const refs: { scope: string; seq: number; digest: string }[] = [];
  const at = new Date();
  before(async () => {
    kit = startApiKit();
    for (const port of [7201, 7202]) {
      const res = await kit.app.inject({
        method: 'POST',
        url: '/v1/scopes/default/generations',
        headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
        body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
      });
      assert.equal(res.statusCode, 201, res.body);
      const body = res.json() as { seq: number; digest: string };
      refs.push({ scope: 'default', seq: body.seq, digest: body.digest });
    }
  });
  after(() => kit.close());

  const node = async (id: string): Promise<NodeBody> => {
    const list = await kit.app.inject({ method: 'GET', url: '/v1/nodes?scope=default', headers: { authorization: 'Bearer reader-token' } });
    assert.equal(list.statusCode, 200, list.body);
    const fromList = (list.json() as { items: NodeBody[] }).items.find((n) => n.nodeId === id);
    const one = await kit.app.inject({ method: 'GET', url: `/v1/nodes/${id}`, headers: { authorization: 'Bearer reader-token' } });
    assert.equal(one.statusCode, 200, one.body);
    const detail = one.json() as NodeBody;
    assert.deepEqual(detail.candidate, fromList?.candidate, 'the list and the detail agree');
    return detail;
  };

  it('a Hello holding a candidate shows it with its share; the node still serves its own', async () => {
    const [g1, g2] = refs as [(typeof refs)[0], (typeof refs)[0]];
    kit.recorder.connected(helloFacts('n1', { at, serving: g1, source: 'control-plane', candidate: g2, candidatePercent: 5 }));
    const n = await node('n1');
    assert.deepEqual(n.serving, { seq: g1.seq, digest: g1.digest });
    assert.deepEqual(n.candidate, { seq: g2.seq, digest: g2.digest, percent: 5 });
  });

  it('a Report holding none clears it; a Report that does not say keeps it; a Report sets it', async () => {
    const [g1, g2] = refs as [(typeof refs)[0], (typeof refs)[0]];
    kit.recorder.reported('n1', 'n1-boot', g1, 'control-plane', at, null);
    assert.equal((await node('n1')).candidate, null);
    kit.recorder.reported('n1', 'n1-boot', g1, 'control-plane', at, { seq: g2.seq, digest: g2.digest, percent: 2.5 });
    assert.deepEqual((await node('n1')).candidate, { seq: g2.seq, digest: g2.digest, percent: 2.5 });
    kit.recorder.reported('n1', 'n1-boot', g1, 'control-plane', at);
    assert.deepEqual((await node('n1')).candidate, { seq: g2.seq, digest: g2.digest, percent: 2.5 });
  });

  it('a candidate ACK sets it with the push share; a serve ACK clears it and moves serving', async () => {
    const [g1, g2] = refs as [(typeof refs)[0], (typeof refs)[0]];
    kit.recorder.connected(helloFacts('n2', { at, serving: g1, source: 'control-plane' }));
    assert.equal((await node('n2')).candidate, null, 'a Hello without a candidate');
    kit.recorder.acked('n2', 'n2-boot', g2, at, true, 3);
    const held = await node('n2');
    assert.deepEqual(held.candidate, { seq: g2.seq, digest: g2.digest, percent: 3 });
    assert.equal(held.serving?.seq, g1.seq, 'a candidate ACK is not a serve');
    kit.recorder.acked('n2', 'n2-boot', g2, at);
    const promoted = await node('n2');
    assert.equal(promoted.candidate, null);
    assert.equal(promoted.serving?.seq, g2.seq);
  });

  it('facts from an older boot change nothing', async () => {
    const [, g2] = refs as [(typeof refs)[0], (typeof refs)[0]];
    kit.recorder.acked('n2', 'old-boot', g2, at, true, 9);
    kit.recorder.reported('n2', 'old-boot', g2, 'control-plane', at, { seq: g2.seq, digest: g2.digest, percent: 9 });
    assert.equal((await node('n2')).candidate, null);
  });
});
