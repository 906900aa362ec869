import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { summariseAllocations } from './alloc-summary.ts';

const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });

describe('alloc summary', () => {
  it('charges a builtin to its nearest caller with a script and names both in the site', () => {
    const head = {
      callFrame: frame('(root)', ''),
      selfSize: 0,
      children: [
        {
          callFrame: frame('onResponseData', 'file:///r/dataplane/src/forwarding/forward-handler.ts', 97),
          selfSize: 100,
          children: [{ callFrame: frame('push', ''), selfSize: 50, children: [] }],
        },
        { callFrame: frame('execute', 'file:///r/node_modules/undici/lib/dispatcher/client-h1.js', 9), selfSize: 30, children: [] },
      ],
    };
    const s = summariseAllocations(head);
    assert.equal(s.totalBytes, 180);
    assert.equal(s.byOwner.get('Spooky body relay (streaming/, ingress/h3/, forward-handler)'), 150);
    assert.equal(s.byOwner.get('undici'), 30);
    assert.equal(s.bySite.get('onResponseData forwarding/forward-handler.ts:98'), 100);
    assert.equal(s.bySite.get('push < onResponseData forwarding/forward-handler.ts:98'), 50);
  });
});
