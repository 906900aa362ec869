import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { helloFacts } from '../testing/node-facts.ts';
import { type ApiKit, MINIMAL_YAML, startApiKit, writeHeaders } from './api-test-kit.ts';

const reader = { authorization: 'Bearer reader-token' };

interface SseEvent {
  id: number;
  event: string;
  data: { id: number; type: string; scope: string; at: string; data: Record<string, unknown> };
}

/** Parses complete SSE frames (comments skipped). */
function parseFrames(text: string): SseEvent[] {
  const events: SseEvent[] = [];
  for (const block of text.split('\n\n')) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const match = /^([a-z]+): ?(.*)$/.exec(line);
      if (match?.[1] && match[2] !== undefined) fields.set(match[1], match[2]);
    }
    const id = fields.get('id');
    const data = fields.get('data');
    if (id !== undefined && data !== undefined) events.push({ id: Number(id), event: fields.get('event') ?? '', data: JSON.parse(data) });
  }
  return events;
}

describe('REST API: events (SSE)', () => {
  let kit: ApiKit;
  before(() => {
    kit = startApiKit({ eventRetention: 6, sseHeartbeatMs: 50 });
  });
  after(() => kit.close());

  const create = (scope: string, port: number) =>
    kit.app.inject({
      method: 'POST',
      url: `/v1/scopes/${scope}/generations`,
      headers: writeHeaders('admin-token', { 'content-type': 'application/yaml' }),
      body: MINIMAL_YAML.replace('port: 9889', `port: ${port}`),
    });

  it('replays the events after Last-Event-ID, filtered by scope and by what the token may see', async () => {
    await create('default', 6001);
    await create('prod-eu', 6002);
    const activate = await kit.app.inject({
      method: 'PUT',
      url: '/v1/scopes/default/active',
      headers: writeHeaders('admin-token', { 'content-type': 'application/json', 'if-match': '"0"' }),
      payload: { seq: 1 },
    });
    assert.equal(activate.statusCode, 200);

    const all = await kit.app.inject({ url: '/v1/events?follow=false', headers: { ...reader, 'last-event-id': '0' } });
    assert.equal(all.statusCode, 200);
    assert.match(all.headers['content-type'] as string, /^text\/event-stream/);
    const events = parseFrames(all.body);
    assert.deepEqual(
      events.map((e) => `${e.id} ${e.event} ${e.data.scope}`),
      ['1 generation.created default', '2 generation.created prod-eu', '3 active.changed default'],
    );
    assert.equal(events[2]?.data.data['kind'], 'activate');
    assert.equal(events[2]?.data.data['seq'], 1);

    const after1 = await kit.app.inject({ url: '/v1/events?follow=false', headers: { ...reader, 'last-event-id': '1' } });
    assert.deepEqual(
      parseFrames(after1.body).map((e) => e.id),
      [2, 3],
    );
    const scoped = await kit.app.inject({ url: '/v1/events?scope=default&follow=false', headers: { ...reader, 'last-event-id': '0' } });
    assert.deepEqual(
      parseFrames(scoped.body).map((e) => e.id),
      [1, 3],
    );
    const eu = await kit.app.inject({
      url: '/v1/events?follow=false',
      headers: { authorization: 'Bearer eu-token', 'last-event-id': '0' },
    });
    assert.deepEqual(
      parseFrames(eu.body).map((e) => e.id),
      [2],
    );
    const none = await kit.app.inject({ url: '/v1/events?follow=false', headers: reader });
    assert.deepEqual(parseFrames(none.body), [], 'without Last-Event-ID only new events are sent');
  });

  it('answers 410 cursor_expired when the cursor is older than the retained window', async () => {
    for (let port = 6010; port < 6015; port += 1) await create('default', port);
    // 8 events so far, 6 retained: ids 3..8. Resuming after 2 still works, after 1 does not.
    const ok = await kit.app.inject({ url: '/v1/events?follow=false', headers: { ...reader, 'last-event-id': '2' } });
    assert.equal(ok.statusCode, 200);
    assert.equal(parseFrames(ok.body)[0]?.id, 3);
    const gone = await kit.app.inject({ url: '/v1/events?follow=false', headers: { ...reader, 'last-event-id': '1' } });
    assert.equal(gone.statusCode, 410);
    assert.equal(gone.json().code, 'cursor_expired');
    assert.equal(gone.json().oldestEventId, 3);
    const bad = await kit.app.inject({ url: '/v1/events?follow=false', headers: { ...reader, 'last-event-id': 'x' } });
    assert.equal(bad.statusCode, 400);
    assert.equal((await kit.app.inject({ url: '/v1/events' })).statusCode, 401);
  });

  it('streams live events over a real connection after replaying the missed ones', async () => {
    const address = await kit.app.listen({ host: '127.0.0.1', port: 0 });
    const controller = new AbortController();
    try {
      const res = await fetch(`${address}/v1/events?scope=default`, {
        headers: { ...reader, 'last-event-id': '7' },
        signal: controller.signal,
      });
      assert.equal(res.status, 200);
      assert.ok(res.body);
      const reader_ = res.body.getReader();
      const decoder = new TextDecoder();
      let text = '';
      const until = async (predicate: (events: SseEvent[]) => boolean): Promise<SseEvent[]> => {
        for (;;) {
          const events = parseFrames(text);
          if (predicate(events)) return events;
          const chunk = await reader_.read();
          if (chunk.done) throw new Error(`stream ended; got ${text}`);
          text += decoder.decode(chunk.value, { stream: true });
        }
      };
      await until((events) => events.some((e) => e.id === 8));
      kit.recorder.connected(helloFacts('live-node', { bootId: 'b' }));
      const created = await create('default', 6020);
      assert.equal(created.statusCode, 201);
      const events = await until((list) => list.some((e) => e.event === 'generation.created' && e.id > 8));
      assert.deepEqual(
        events.map((e) => e.event),
        ['generation.created', 'node.connected', 'generation.created'],
      );
      assert.deepEqual(
        events.map((e) => e.id),
        [8, 9, 10],
      );
      assert.equal(events[1]?.data.data['nodeId'], 'live-node');
      await until(() => text.includes(': heartbeat\n\n'));
    } finally {
      controller.abort();
    }
  });
});
