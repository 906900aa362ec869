import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { CHANNEL_NAMES } from './channel-names.ts';
import {
  HEAD_REJECTIONS,
  HEDGE_RESULTS,
  INGRESS_REJECTIONS,
  ingressOutcome,
  RATE_LIMITED_REASON,
  REQUEST_OUTCOMES,
  RETRY_REFUSALS,
  SHED_REASONS,
} from './reason-vocabulary.ts';

const SRC = join(import.meta.dirname, '..');

/** The data plane's production sources (no tests, no test helpers), with their text. */
function productionSources(): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'testing') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
        out.push({ file: relative(SRC, path), text: readFileSync(path, 'utf8') });
      }
    }
  };
  walk(SRC);
  return out;
}

/** Every string literal captured by `pattern`'s first group, with the file it is in. */
function literals(pattern: RegExp): { file: string; value: string }[] {
  const found: { file: string; value: string }[] = [];
  for (const { file, text } of productionSources()) for (const m of text.matchAll(pattern)) found.push({ file, value: m[1] as string });
  return found;
}

test('every spooky:* channel name is declared in telemetry/channel-names.ts and nowhere else', () => {
  const strays = literals(/['"](spooky:[a-z:-]+)['"]/g).filter((l) => l.file !== join('telemetry', 'channel-names.ts'));
  assert.deepEqual(strays, []);
  assert.equal(new Set(CHANNEL_NAMES).size, CHANNEL_NAMES.length);
  for (const name of CHANNEL_NAMES) assert.match(name, /^spooky:[a-z]+(:[a-z-]+)?$/);
});

test('the outcome list is closed and well formed: unique, lower-case `kind` or `kind:detail`', () => {
  assert.equal(new Set(REQUEST_OUTCOMES).size, REQUEST_OUTCOMES.length);
  for (const outcome of REQUEST_OUTCOMES) assert.match(outcome, /^[a-z_]+(:[a-z_]+)?$/, outcome);
  assert.ok(REQUEST_OUTCOMES.includes('ok'));
  for (const reason of INGRESS_REJECTIONS) assert.ok(REQUEST_OUTCOMES.includes(ingressOutcome(reason)), reason);
  for (const reason of SHED_REASONS) assert.ok(REQUEST_OUTCOMES.includes(`rejected:${reason}`), reason);
  assert.ok(REQUEST_OUTCOMES.includes(`rejected:${RATE_LIMITED_REASON}`));
});

test('every outcome literal the data plane assigns is in REQUEST_OUTCOMES', () => {
  // `outcome = '…'`, `outcome: '…'` (error table, context default); mirroring has its own
  // vocabulary (spooky_mirror_requests_total{outcome}) and is checked below.
  const assigned = literals(/\boutcome\s*[:=]\s*'([^']+)'/g).filter((l) => !l.file.startsWith('mirroring'));
  assert.ok(assigned.length >= 20, `${assigned.length} outcome literals found`);
  for (const { file, value } of assigned) assert.ok(REQUEST_OUTCOMES.includes(value), `${file}: outcome '${value}' is not in REQUEST_OUTCOMES`);
});

test('every shed, retry refusal, hedge result and local-reply code the code writes is in its list', () => {
  const shedCodes = new Set<string>([...SHED_REASONS, RATE_LIMITED_REASON]);
  // `ctx.shed = '…'` and admit-request's `shed(ctx, '…')`.
  const sheds = [...literals(/\bshed\s*=\s*'([^']+)'/g), ...literals(/\bshed\(ctx,\s*'([^']+)'\)/g)];
  assert.ok(sheds.length > 0);
  for (const { file, value } of sheds) assert.ok((SHED_REASONS as readonly string[]).includes(value), `${file}: shed '${value}'`);
  for (const { file, value } of literals(/retryAfterReply\(\d+,\s*'([^']+)'/g)) assert.ok(shedCodes.has(value), `${file}: reply code '${value}'`);
  const refusals = literals(/\bretryRefusal\s*=\s*'([^']+)'/g);
  assert.ok(refusals.length > 0);
  for (const { file, value } of refusals) assert.ok((RETRY_REFUSALS as readonly string[]).includes(value), `${file}: retry refusal '${value}'`);
  for (const { file, value } of literals(/\bhedge\s*=\s*'([^']+)'/g)) assert.ok((HEDGE_RESULTS as readonly string[]).includes(value), `${file}: hedge '${value}'`);
  for (const { file, value } of literals(/\breject\('([^']+)'\)/g)) assert.ok((HEAD_REJECTIONS as readonly string[]).includes(value), `${file}: head rejection '${value}'`);
});
