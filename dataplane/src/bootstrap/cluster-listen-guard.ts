/**
 * Makes a failed TCP listen in a cluster worker leave nothing behind in node:cluster's handle
 * tables, so the same address can be listened on again (a retried or later generation).
 *
 * Why (Node 24, Linux, SCHED_NONE): a worker's `net.Server.listen(port, host)` asks the
 * primary for the listen handle (`cluster._getServer` → the primary's `SharedHandle` binds it
 * and sends the fd). libuv reports EADDRINUSE of that bind only at listen() (a delayed error),
 * so the primary sends a handle that is not bound to the port; the worker's net.js sees the
 * wrong port (`checkBindError`) and emits EADDRINUSE — but never closes that handle. Both
 * tables keep it: the worker's `handles` map under the address key, the primary's handle with
 * this worker in it. The next listen on that address then gets a fresh handle from the primary
 * and the worker asserts `handles.has(key) === false`: ERR_INTERNAL_ASSERTION, thrown from the
 * IPC handler, which kills the worker (every worker, as each applies the same generation).
 * Same class as nodejs/node#64869 (open); node's own fix would make this guard a no-op.
 *
 * The guard wraps `cluster._getServer` in this worker: when the primary's handle is not bound
 * to the requested port (net.js's own check, done first), it closes the handle (the cluster's own close: the worker's table
 * entry goes and the primary is told, which closes its socket once no worker holds it) and
 * answers EADDRINUSE with a placeholder handle, which net.js turns into the usual `'error'` (EADDRINUSE,
 * syscall bind): the listener reports `listener.bind_failed` and the generation is NACKed,
 * retryable. Successful listens are untouched (the TCP socket stays shared through the
 * primary: a listener a worker reopens gets the socket its siblings still hold).
 *
 * Call once per process, before any listener opens; a no-op outside a cluster worker and when
 * node no longer has `_getServer` (then node's own behaviour applies). Idempotent.
 */
import cluster from 'node:cluster';
import { constants } from 'node:os';

type GetServerCallback = (errno: number, handle: ClusterHandle | null) => void;
type GetServer = (obj: unknown, options: { readonly port?: unknown }, cb: GetServerCallback) => unknown;

interface ClusterHandle {
  getsockname?: (out: { port?: number }) => number;
  close(): void;
}

/** libuv's error numbers are the negated errno values on Linux. */
const UV_EADDRINUSE = -constants.errno.EADDRINUSE;
const GUARDED = Symbol.for('spooky.clusterListenGuard');
const CLOSED: ClusterHandle = { close: () => undefined };

/** Installs the guard in this process (see the file comment); true when installed now or before. */
export function guardClusterListen(): boolean {
  if (!cluster.isWorker) return false;
  const target = cluster as unknown as { _getServer?: GetServer; [GUARDED]?: true };
  const original = target._getServer;
  if (typeof original !== 'function') return false;
  if (target[GUARDED]) return true;
  target._getServer = function guardedGetServer(this: unknown, obj, options, cb) {
    return original.call(this, obj, options, (errno, handle) => {
      const failed = errno === 0 && handle !== null ? bindError(handle, options.port) : 0;
      if (failed === 0) {
        cb(errno, handle);
        return;
      }
      (handle as ClusterHandle).close();
      // net.js closes the handle it is given when the server was closed meanwhile: a
      // placeholder, so the real one is not closed (and reported to the primary) twice.
      cb(failed, CLOSED);
    });
  };
  target[GUARDED] = true;
  return true;
}

/**
 * net.js's own check (`checkBindError`), done before net.js does it: 0 when `handle` is bound
 * to `port`, else the error net.js would raise — EADDRINUSE for a handle bound elsewhere (the
 * delayed bind error), getsockname's own error when it fails. Port 0 and handles without
 * getsockname (pipes, round-robin faux handles) are never judged (0).
 */
export function bindError(handle: Pick<ClusterHandle, 'getsockname'>, port: unknown): number {
  if (typeof port !== 'number' || port <= 0 || typeof handle.getsockname !== 'function') return 0;
  const out: { port?: number } = {};
  const err = handle.getsockname(out);
  if (err !== 0) return err;
  return out.port === port ? 0 : UV_EADDRINUSE;
}
