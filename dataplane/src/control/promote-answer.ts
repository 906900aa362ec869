/**
 * Turns one Promote into its answer (docs/rollout.md §5), called by the control client one step
 * at a time after every earlier apply, hold and promote:
 * - the held candidate → promote it: Ack after the swap, or the applier's Nack (old kept);
 * - the serving generation → drop any candidate beside it (a rollback without a transfer): Ack;
 * - anything else → Nack (phase "transfer", retryable: the control plane pushes it instead).
 * `forget` is told every digest that stops being a held candidate (canary-nacks.ts).
 */
import type { FromDataPlane } from '@spooky/proto';
import type pino from 'pino';
import type { GenerationApplier, GenerationRef } from './generation-applier.ts';
import { ack, nack } from './push-answer.ts';

export async function answerPromote(
  applier: GenerationApplier,
  nonce: string,
  target: GenerationRef | null,
  forget: (digest: string) => void,
  log: pino.Logger,
): Promise<FromDataPlane> {
  const serving = applier.serving();
  const held = serving?.candidate?.ref ?? null;
  if (target !== null && held !== null && held.digest === target.digest) {
    const result = await applier.promote();
    if (!result.ok) {
      log.warn({ nonce, seq: target.seq, digest: target.digest, phase: result.phase }, 'control: promote failed (nack)');
      return nack(applier, nonce, target, result.phase, result.retryable, result.issues);
    }
    forget(target.digest);
    log.info({ nonce, seq: target.seq, digest: target.digest }, 'control: candidate promoted (ack)');
    return ack(nonce, target, Date.now(), false);
  }
  if (target !== null && serving !== null && serving.ref.digest === target.digest) {
    if (held !== null) {
      await applier.dropCandidate();
      forget(held.digest);
      log.info({ nonce, seq: target.seq, digest: target.digest, dropped: held.digest }, 'control: candidate dropped, serving generation kept (ack)');
    }
    return ack(nonce, target, Date.now(), false);
  }
  log.warn({ nonce, seq: target?.seq, digest: target?.digest }, 'control: promote of a generation not held (nack)');
  return nack(applier, nonce, target, 'transfer', true, [
    { pointer: '', code: 'transfer.not_held', message: 'this node holds no such generation (neither as candidate nor serving); push it' },
  ]);
}
