import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { connectionSpread } from './connection-spread.ts';

describe('connection spread from the access log', () => {
  it('counts connections and requests per worker pid, and connections seen on two', () => {
    const log = [
      '{"level":30,"pid":11,"path":"/bytes/64?c=9-0","msg":"request"}',
      '{"level":30,"pid":11,"path":"/bytes/64?c=9-0","msg":"request"}',
      '{"level":30,"pid":12,"path":"/bytes/64?c=9-1","msg":"request"}',
      '{"level":30,"pid":12,"path":"/bytes/64?c=9-2","msg":"request"}',
      '{"level":30,"pid":11,"path":"/bytes/64?c=9-2","msg":"request"}',
      '{"level":30,"pid":11,"msg":"data plane started"}',
      '',
    ].join('\n');
    const s = connectionSpread(log);
    assert.deepEqual([...s.connectionsByPid].sort(), [[11, 2], [12, 2]]);
    assert.deepEqual([...s.requestsByPid].sort(), [[11, 3], [12, 2]]);
    assert.equal(s.split, 1);
  });
});
