/**
 * The GenerationApplier of a supervisor primary (`--workers N`): one node identity, N serving
 * workers, each holding the same generation. The control client, the disk cache and the
 * standalone file all hand their generation to this applier, never to a worker.
 *
 * apply(payload, ref, source), serialized with every other apply and join:
 *   [already served from that source?] → [journal refusal?] → journal.begin
 *   → prepare on every joined worker (in parallel) → all ok? commit on all : abort on all
 *   → journal.end
 * - ok (Ack) only when every worker prepared and committed it.
 * - A worker that refuses it: the others drop what they prepared (they keep serving the old
 *   generation); the result is that worker's {phase, retryable, issues} (the Nack).
 *   Workers that had already committed when a sibling died committing are put back on the
 *   previous generation.
 * - A worker that dies (or stops answering within `prepareTimeoutMs`, then it is killed)
 *   while preparing or committing: the generation is refused for the life of the primary
 *   (`generation.crashed_while_applying`, not retryable) and in every later apply marker, the
 *   other workers drop it; the supervisor restarts the dead worker, which joins on the old one.
 * - No worker joined (all restarting): refused, retryable (`apply.no_workers`).
 *
 * join(worker): a new or restarted worker is brought to the served generation (prepare +
 * commit on it alone) before it counts as serving; with nothing served yet it joins at once.
 * A worker that refuses the generation its siblings serve is killed (the supervisor's crash
 * window decides about restarting it). A worker does not listen on any port before it applied
 * a generation, so it serves nothing until it serves the current one.
 *
 * hold(payload, ref, canary) (a candidate, docs/rollout.md §5): the same two phases, with the
 * commit holding it beside the served generation on every worker; it counts as held only when
 * every worker holds it: a refusal, a lost worker or a failed commit drops it on all (a lost
 * worker also refuses it for the life of the primary, as above). Held, the journal records it
 * for the crash window (holdCandidate). promote(): every worker promotes; one that fails is
 * killed and, restarted, joins on the promoted generation (the same bytes). dropCandidate(): every worker drops it. apply, promote and drop clear the journal's candidate
 * record. A worker that joins while a candidate is held holds it too, or the candidate is
 * dropped on all — unless it replaces a worker that died within the candidate's crash window:
 * then the candidate is dropped on all and `onCandidateCrash` NACKs it.
 *
 * Log lines (component "fleet"): "generation applied by all workers" {seq, digest, source,
 * workers: [pid]}; "crashed while applying a generation" {seq, digest, workerPid};
 * "generation rejected" {seq, digest, source, phase, retryable, issues} when the refusal is the
 * primary's own (journal, crash, no workers; a worker logs its own refusals); "worker joined"
 * {workerPid, slot, seq}; "worker refused the served generation" {workerPid, phase, issues}.
 */
import type { ConfigIssue } from '@spooky/config';
import type pino from 'pino';
import type { ApplyJournal } from '../cache/apply-journal.ts';
import { CRASHED_CODE } from '../cache/apply-journal.ts';
import type { ApplyPhase, ApplyResult, GenerationApplier, GenerationRef, ServingSource } from '../control/generation-applier.ts';
import type { CanaryAssignment } from '../rollout/in-node-canary.ts';
import { WorkerGoneError, type WorkerHandle, WorkerTimeoutError } from './worker-handle.ts';

export interface FleetApplierOptions {
  readonly logger: pino.Logger;
  /** The apply marker (control-plane mode); none standalone. */
  readonly journal?: ApplyJournal;
  /** Bound on one worker's prepare (parse + compile + listeners). Default 120 s. */
  readonly prepareTimeoutMs?: number;
  /** Bound on commit and abort, which do no parsing. Default 10 s. */
  readonly commitTimeoutMs?: number;
  /**
   * A worker was replaced (it died) within the candidate's crash window: the candidate has
   * been dropped on every worker; the caller NACKs it (control client `nackCandidate`).
   */
  readonly onCandidateCrash?: (candidate: GenerationRef, issues: readonly ConfigIssue[]) => void;
  /** Clock for the crash window; Date.now by default. */
  readonly now?: () => number;
}

export interface FleetApplier extends GenerationApplier {
  /** Brings `worker` to the served generation; it counts as serving once this resolves ok. */
  join(worker: WorkerHandle): Promise<ApplyResult>;
  /** The workers that serve the current generation (joined and not gone), by slot. */
  workers(): readonly WorkerHandle[];
}

interface Current {
  readonly payload: Uint8Array;
  readonly ref: GenerationRef;
  readonly source: ServingSource;
  /** Present on a held candidate. */
  readonly canary?: CanaryAssignment;
}

type Prepared = { readonly worker: WorkerHandle; readonly outcome: { kind: 'result'; result: ApplyResult } | { kind: 'lost'; err: Error } };

export function createFleetApplier(opts: FleetApplierOptions): FleetApplier {
  const log = opts.logger.child({ component: 'fleet' });
  const prepareMs = opts.prepareTimeoutMs ?? 120_000;
  const commitMs = opts.commitTimeoutMs ?? 10_000;
  const joined = new Set<WorkerHandle>();
  let current: Current | null = null;
  let candidate: Current | null = null;
  /** When every worker held the current candidate. */
  let heldAtMs = 0;
  const now = opts.now ?? Date.now;
  let queue: Promise<unknown> = Promise.resolve();

  const serialized = <T>(work: () => Promise<T>): Promise<T> => {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  };

  const refuse = (ref: GenerationRef, source: ServingSource, phase: ApplyPhase, retryable: boolean, issues: readonly ConfigIssue[]): ApplyResult => {
    log.warn({ seq: ref.seq, digest: ref.digest, source, phase, retryable, issues }, 'generation rejected');
    return { ok: false, phase, retryable, issues };
  };

  const prepareOn = async (worker: WorkerHandle, c: Current): Promise<Prepared> => {
    try {
      return { worker, outcome: { kind: 'result', result: await worker.prepare(c.payload, c.ref, c.source, prepareMs, c.canary) } };
    } catch (err) {
      if (err instanceof WorkerTimeoutError) worker.kill();
      return { worker, outcome: { kind: 'lost', err: err as Error } };
    }
  };

  /** Commit/abort failures mean the worker died or hung: it is killed and restarted on `current`. True when it answered. */
  const settle = async (worker: WorkerHandle, step: 'commit' | 'abort'): Promise<boolean> => {
    try {
      await (step === 'commit' ? worker.commit(commitMs) : worker.abort(commitMs));
      return true;
    } catch (err) {
      if (!(err instanceof WorkerGoneError)) worker.kill();
      log.warn({ workerPid: worker.pid, step, err: (err as Error).message }, 'worker lost during an apply');
      return false;
    }
  };

  /**
   * Prepares `c` on every target (phase one of an apply or a hold). When any worker refuses or
   * is lost, the prepared ones abort and the answer is returned: a lost worker crashed on it (the
   * generation is refused from now on); a refusing worker logged "generation rejected" with its
   * issues. Null when every worker is prepared.
   */
  const prepareAll = async (targets: readonly WorkerHandle[], c: Current): Promise<ApplyResult | null> => {
    const prepared = await Promise.all(targets.map((w) => prepareOn(w, c)));
    const lost = prepared.find((p) => p.outcome.kind === 'lost');
    const refused = prepared.find((p) => p.outcome.kind === 'result' && !p.outcome.result.ok);
    if (lost === undefined && refused === undefined) return null;
    const ready = prepared.filter((p) => p.outcome.kind === 'result' && p.outcome.result.ok).map((p) => p.worker);
    await Promise.all(ready.map((w) => settle(w, 'abort')));
    if (lost !== undefined) return crashedOn(c.ref, c.source, lost.worker, lost.outcome.kind === 'lost' ? lost.outcome.err.message : '');
    return refused?.outcome.kind === 'result' ? refused.outcome.result : { ok: false, phase: 'apply', retryable: true, issues: [] };
  };

  /** Puts a worker back on `c` (after its siblings died committing a newer one); killed when it cannot. */
  const restore = async (worker: WorkerHandle, c: Current): Promise<void> => {
    const prepared = await prepareOn(worker, c);
    if (prepared.outcome.kind === 'result' && prepared.outcome.result.ok && (await settle(worker, 'commit'))) return;
    worker.kill();
  };

  const crashedOn = (ref: GenerationRef, source: ServingSource, worker: WorkerHandle, why: string): ApplyResult => {
    opts.journal?.refuse(ref);
    log.error({ seq: ref.seq, digest: ref.digest, workerPid: worker.pid, err: why }, 'crashed while applying a generation');
    return refuse(ref, source, 'compile', false, [
      {
        pointer: '',
        code: CRASHED_CODE,
        message: `a worker of this data plane crashed while applying generation ${ref.digest} (seq ${ref.seq}); it keeps serving the previous one and refuses this one`,
      },
    ]);
  };

  /** Drops the candidate on every worker (a worker that does not answer is killed and rejoins without it). */
  const dropEverywhere = async (): Promise<void> => {
    await Promise.all(
      [...joined].map(async (w) => {
        try {
          await w.dropCandidate(commitMs);
        } catch (err) {
          if (!(err instanceof WorkerGoneError)) w.kill();
        }
      }),
    );
    if (candidate !== null) await opts.journal?.clearCandidate();
    candidate = null;
  };

  const holdNow = async (next: Current): Promise<ApplyResult> => {
    const { ref, source } = next;
    if (candidate !== null && candidate.ref.digest === ref.digest && candidate.canary?.percent === next.canary?.percent) {
      log.info({ seq: ref.seq, digest: ref.digest }, 'candidate already held');
      return { ok: true };
    }
    const refusal = opts.journal?.refusal(ref) ?? null;
    if (refusal !== null) return refuse(ref, source, 'compile', false, [refusal]);
    if (current === null) return refuse(ref, source, 'apply', true, [{ pointer: '', code: 'canary.nothing_served', message: 'a candidate needs a serving generation beside it' }]);
    const targets = [...joined];
    if (targets.length === 0) {
      return refuse(ref, source, 'apply', true, [{ pointer: '', code: 'apply.no_workers', message: 'no serving worker is running (restarting); retry' }]);
    }
    await opts.journal?.begin(ref);
    try {
      // Any earlier candidate: the workers still hold it (an aborted prepare keeps it).
      const unprepared = await prepareAll(targets, next);
      if (unprepared !== null) return unprepared;
      const answered = await Promise.all(targets.map((w) => settle(w, 'commit')));
      const died = targets.find((_, i) => !answered[i]);
      if (died !== undefined) {
        await dropEverywhere();
        return crashedOn(ref, source, died, 'exited while holding the candidate');
      }
      candidate = next;
      heldAtMs = now();
      await opts.journal?.holdCandidate(ref, next.canary?.crashWindowMs ?? 0);
      log.info({ seq: ref.seq, digest: ref.digest, percent: next.canary?.percent, workers: targets.map((w) => w.pid) }, 'candidate held by all workers');
      return { ok: true };
    } finally {
      await opts.journal?.end();
    }
  };

  const promoteNow = async (): Promise<ApplyResult> => {
    const next = candidate;
    if (next === null) {
      return { ok: false, phase: 'apply', retryable: true, issues: [{ pointer: '', code: 'canary.no_candidate', message: 'no candidate is held to promote' }] };
    }
    const targets = [...joined];
    const results = await Promise.all(
      targets.map(async (w): Promise<ApplyResult | null> => {
        try {
          return await w.promote(commitMs);
        } catch (err) {
          if (!(err instanceof WorkerGoneError)) w.kill();
          return null;
        }
      }),
    );
    // The candidate now serves on the workers that promoted; one that could not is killed and
    // rejoins on the promoted generation (the same bytes), so no worker stays behind.
    targets.forEach((w, i) => {
      const r = results[i];
      if (r === null || r === undefined || !r.ok) {
        log.warn({ workerPid: w.pid, seq: next.ref.seq }, 'worker failed to promote the candidate');
        w.kill();
      }
    });
    current = { payload: next.payload, ref: next.ref, source: 'control-plane' };
    candidate = null;
    await opts.journal?.clearCandidate();
    log.info({ seq: next.ref.seq, digest: next.ref.digest, workers: targets.map((w) => w.pid) }, 'candidate promoted by all workers');
    return { ok: true };
  };

  const applyNow = async (next: Current): Promise<ApplyResult> => {
    const { ref, source } = next;
    if (candidate === null && current !== null && current.source === source && current.ref.digest === ref.digest && current.ref.seq === ref.seq) {
      log.info({ seq: ref.seq, digest: ref.digest, source }, 'generation already serving');
      return { ok: true };
    }
    const refusal = opts.journal?.refusal(ref) ?? null;
    if (refusal !== null) return refuse(ref, source, 'compile', false, [refusal]);
    const targets = [...joined];
    if (targets.length === 0) {
      return refuse(ref, source, 'apply', true, [{ pointer: '', code: 'apply.no_workers', message: 'no serving worker is running (restarting); retry' }]);
    }
    await opts.journal?.begin(ref);
    try {
      const unprepared = await prepareAll(targets, next);
      if (unprepared !== null) return unprepared;
      // A worker dying in commit (health checkers and pools start there) crashed on it too:
      // the others, already switched, go back to the previous generation.
      const answered = await Promise.all(targets.map((w) => settle(w, 'commit')));
      const died = targets.find((_, i) => !answered[i]);
      if (died !== undefined) {
        const previous = current;
        if (previous !== null) await Promise.all(targets.filter((_, i) => answered[i]).map((w) => restore(w, previous)));
        return crashedOn(ref, source, died, 'exited while committing');
      }
      current = next;
      if (candidate !== null) await opts.journal?.clearCandidate();
      candidate = null;
      log.info({ seq: ref.seq, digest: ref.digest, source, workers: targets.map((w) => w.pid) }, 'generation applied by all workers');
      return { ok: true };
    } finally {
      await opts.journal?.end();
    }
  };

  const joinNow = async (worker: WorkerHandle): Promise<ApplyResult> => {
    const admit = (): void => {
      joined.add(worker);
      void worker.gone.then(() => joined.delete(worker));
    };
    if (current === null) {
      admit();
      log.info({ workerPid: worker.pid, slot: worker.slot, seq: null }, 'worker joined');
      return { ok: true };
    }
    const c = current;
    const prepared = await prepareOn(worker, c);
    if (prepared.outcome.kind === 'lost') {
      // It died (the supervisor restarts it and it joins again) or hung (killed above).
      log.warn({ workerPid: worker.pid, seq: c.ref.seq, err: prepared.outcome.err.message }, 'worker lost while joining');
      return { ok: false, phase: 'apply', retryable: true, issues: [] };
    }
    const result = prepared.outcome.result;
    if (!result.ok) {
      log.error({ workerPid: worker.pid, seq: c.ref.seq, phase: result.phase, issues: result.issues }, 'worker refused the served generation');
      worker.kill();
      return result;
    }
    if (!(await settle(worker, 'commit'))) return { ok: false, phase: 'apply', retryable: true, issues: [] };
    admit();
    const held = candidate;
    const windowMs = held?.canary?.crashWindowMs ?? 0;
    // Workers join while a candidate is held only as replacements of workers that died.
    if (held !== null && now() - heldAtMs < windowMs) {
      const sinceMs = now() - heldAtMs;
      log.warn({ workerPid: worker.pid, seq: held.ref.seq, sinceMs, crashWindowMs: windowMs }, 'worker died within the crash window of the candidate: dropped on all');
      await dropEverywhere();
      opts.onCandidateCrash?.(held.ref, [
        {
          pointer: '',
          code: 'canary.crashed',
          message: `a serving worker died ${sinceMs} ms after this candidate was held, within the crash window of ${windowMs} ms; the node serves its previous generation`,
        },
      ]);
    } else if (held !== null) {
      // The candidate counts as held only when every worker holds it.
      const p = await prepareOn(worker, held);
      const ok = p.outcome.kind === 'result' && p.outcome.result.ok && (await settle(worker, 'commit'));
      if (!ok) {
        log.warn({ workerPid: worker.pid, seq: held.ref.seq }, 'joining worker could not hold the candidate: dropped on all');
        await dropEverywhere();
      }
    }
    log.info({ workerPid: worker.pid, slot: worker.slot, seq: c.ref.seq }, 'worker joined');
    return { ok: true };
  };

  return {
    serving: () =>
      current === null
        ? null
        : { ref: current.ref, source: current.source, ...(candidate !== null ? { candidate: { ref: candidate.ref, percent: candidate.canary?.percent ?? 0 } } : {}) },
    apply: (payload, ref, source) => serialized(() => applyNow({ payload, ref, source })),
    hold: (payload, ref, canary) => serialized(() => holdNow({ payload, ref, source: 'control-plane', canary })),
    promote: () => serialized(promoteNow),
    dropCandidate: () => serialized(dropEverywhere),
    join: (worker) => serialized(() => joinNow(worker)),
    workers: () => [...joined].sort((a, b) => a.slot - b.slot),
  };
}
