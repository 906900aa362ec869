/**
 * Child process: one HTTP/3 load generator on the library's client, driven over node IPC by
 * the orchestrator (load-protocol.ts). Several run side by side because the client's
 * request-open path is a blocking round trip to its native worker, which caps one process
 * well below what a core can do. Exits when told to, or when its parent goes away.
 *
 *   (forked by generator-pool.ts) node bench/src/proxy/load-generator-main.ts
 */
import { connectAsync, type Http3ClientSession } from '@currentspace/http3';
import { runClosedLoop, runOpenLoop } from './load-loop.ts';
import type { GeneratorMessage, OrchestratorMessage, PrepareMessage } from './load-protocol.ts';

let prepared: { job: PrepareMessage; sessions: Http3ClientSession[] } | null = null;

function send(message: GeneratorMessage): void {
  process.send?.(message);
}

async function connectAll(job: PrepareMessage): Promise<Http3ClientSession[]> {
  const host = job.authority.replace(/:\d+$/, '');
  const attempts = await Promise.allSettled(
    Array.from({ length: job.connections }, () =>
      connectAsync(`127.0.0.1:${job.port}`, { rejectUnauthorized: false, servername: host, connectTimeoutMs: 10_000 }),
    ),
  );
  const sessions: Http3ClientSession[] = [];
  for (const a of attempts) {
    if (a.status === 'fulfilled') {
      a.value.on('error', () => {
        // Failures surface on the request streams and are counted there.
      });
      sessions.push(a.value);
    }
  }
  return sessions;
}

async function closeAll(sessions: readonly Http3ClientSession[]): Promise<void> {
  await Promise.allSettled(sessions.map((s) => Promise.race([s.close(), new Promise((resolve) => setTimeout(resolve, 300))])));
  for (const s of sessions) if (!s.closed) void s.destroy().catch(() => {});
}

process.on('message', (message: OrchestratorMessage) => {
  if (message.type === 'exit') {
    void (prepared ? closeAll(prepared.sessions) : Promise.resolve()).finally(() => process.exit(0));
    return;
  }
  if (message.type === 'prepare') {
    const job = message;
    connectAll(job).then(
      (sessions) => {
        prepared = { job, sessions };
        send({ type: 'ready', jobId: job.jobId, connected: sessions.length });
      },
      (err: unknown) => send({ type: 'failed', jobId: job.jobId, error: String(err) }),
    );
    return;
  }
  const current = prepared;
  if (!current || current.job.jobId !== message.jobId) {
    send({ type: 'failed', jobId: message.jobId, error: 'go without a prepared job' });
    return;
  }
  prepared = null;
  const missing = current.job.connections - current.sessions.length;
  const run = current.sessions.length === 0
    ? Promise.resolve(null)
    : current.job.streams > 0
      ? runClosedLoop(current.sessions, current.job, message)
      : runOpenLoop(current.sessions, current.job, message);
  run
    .then(async (result) => {
      await closeAll(current.sessions);
      const errors = { ...(result?.errors ?? {}) };
      if (missing > 0) errors['connect'] = (errors['connect'] ?? 0) + missing;
      const empty = { count: 0, minUs: 0, maxUs: 0, buckets: [] };
      send({
        type: 'result',
        jobId: message.jobId,
        completed: result?.completed ?? 0,
        bytes: result?.bytes ?? 0,
        latency: result?.latency ?? empty,
        errors,
        offered: result?.offered ?? 0,
        served: result?.served ?? 0,
        sendLagP99Ms: result?.sendLagP99Ms ?? 0,
        sendLagMaxMs: result?.sendLagMaxMs ?? 0,
      });
    })
    .catch((err: unknown) => send({ type: 'failed', jobId: message.jobId, error: String(err) }));
});

process.on('disconnect', () => process.exit(0));
