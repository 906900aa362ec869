import assert from 'node:assert/strict';
import { constants } from 'node:os';
import { describe, it } from 'node:test';
import { bindError, guardClusterListen } from './cluster-listen-guard.ts';

/** A handle whose getsockname answers `err` and reports `port`. */
const handle = (port: number | undefined, err = 0) => ({
  getsockname: (out: { port?: number }) => {
    if (port !== undefined) out.port = port;
    return err;
  },
});

describe('bindError (net.js checkBindError, done before net.js)', () => {
  it('is 0 for a handle bound to the requested port', () => {
    assert.equal(bindError(handle(8443), 8443), 0);
  });
  it('is EADDRINUSE for a handle bound elsewhere: the delayed bind error (an unbound socket reports port 0)', () => {
    assert.equal(bindError(handle(0), 8443), -constants.errno.EADDRINUSE);
    assert.equal(bindError(handle(40001), 8443), -constants.errno.EADDRINUSE);
  });
  it("passes getsockname's own error on", () => {
    assert.equal(bindError(handle(undefined, -constants.errno.EBADF), 8443), -constants.errno.EBADF);
  });
  it('never judges port 0, a missing port or a handle without getsockname', () => {
    assert.equal(bindError(handle(40001), 0), 0);
    assert.equal(bindError(handle(40001), undefined), 0);
    assert.equal(bindError({}, 8443), 0);
  });
});

describe('guardClusterListen', () => {
  it('is a no-op outside a cluster worker', () => {
    assert.equal(guardClusterListen(), false);
  });
});
