/**
 * The primary's log level follows its serving workers'. Each worker sets its own level from
 * the generation it swaps in (serving-worker.ts: the generation's `log.level`, unless
 * `--log-level` / SPOOKY_DP_LOG_LEVEL pins it); the primary parses no generation, so after
 * every successful apply or promote it asks one worker for the level it now logs at
 * (WorkerStatus.logLevel, one IPC round trip per generation, nothing per request) and takes it.
 * So the primary's own lines ("generation applied by all workers", the control client's, the
 * cache's, the supervisor's) obey the same `log.level` as the workers' — from just after the
 * apply: the line announcing that apply is still written at the previous level.
 *
 * With `--no-supervise` the worker shares the primary's logger, so this changes nothing.
 * A worker that does not answer in time leaves the level as it was; the next apply asks again.
 */
import type pino from 'pino';
import type { WorkerHandle } from '../apply/worker-handle.ts';
import type { ApplyResult, GenerationApplier } from '../control/generation-applier.ts';
import { LOG_LEVELS, type LogLevel } from '../observability/logger.ts';

/** `inner` with the primary's logger following the workers' level after each ok apply and promote. */
export function followWorkerLogLevel(inner: GenerationApplier, logger: pino.Logger, workers: () => readonly WorkerHandle[], askMs: number): GenerationApplier {
  const follow = async (result: ApplyResult): Promise<ApplyResult> => {
    const worker = workers()[0];
    if (!result.ok || worker === undefined) return result;
    const level = await worker.status(askMs).then(
      (s) => s.logLevel,
      () => null,
    );
    if (level !== null && level !== logger.level && (LOG_LEVELS as readonly string[]).includes(level)) logger.level = level as LogLevel;
    return result;
  };
  return {
    serving: () => inner.serving(),
    apply: (payload, ref, source) => inner.apply(payload, ref, source).then(follow),
    hold: (payload, ref, canary) => inner.hold(payload, ref, canary),
    promote: () => inner.promote().then(follow),
    dropCandidate: () => inner.dropCandidate(),
  };
}
