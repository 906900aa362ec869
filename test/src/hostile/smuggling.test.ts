/**
 * Hostile clients, HTTP/1.1 framing over the TLS TCP listener: the request-smuggling shapes of
 * issue 7 (CL.TE, TE.CL, duplicate Content-Length, obfuscated Transfer-Encoding, bare LF / bare
 * CR in chunk lines and headers, NUL in a header). Each shape goes on its own connection, all
 * at once; each must get a 400 and a close (or just a close), and the origin must see neither
 * the ambiguous front request nor the hidden one. Then the same shapes again, sequentially and
 * repeated, because one of them used to kill the process a moment after its 400.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { HostileFleet } from '../harness/hostile-fleet.ts';
import { rawTls } from '../harness/raw-tls.ts';
import { SMUGGLING_SHAPES, type SmugglingShape } from './smuggling-shapes.ts';

const ANSWER_BOUND_MS = 3000;

interface Verdict {
  readonly name: string;
  readonly statuses: number[];
  readonly closed: boolean;
  readonly originSaw: string[];
}

async function send(fleet: HostileFleet, shape: SmugglingShape): Promise<Verdict> {
  const conn = await rawTls(fleet.port).catch((err: Error) => {
    throw new Error(`${shape.name}: could not connect (is the data plane down?): ${err.message}`);
  });
  conn.write(shape.bytes(`localhost:${fleet.port}`));
  await conn.waitClosed(ANSWER_BOUND_MS);
  conn.destroy();
  const originSaw = fleet.target.requests.map((r) => r.path).filter((p) => p.endsWith(`-${shape.name}`));
  return { name: shape.name, statuses: conn.statuses(), closed: conn.closed, originSaw };
}

function wrong(v: Verdict): string | null {
  const answered = v.statuses.length === 0 || (v.statuses.length === 1 && v.statuses[0] === 400);
  if (!answered) return `${v.name}: answered ${JSON.stringify(v.statuses)} (want one 400 or none)`;
  if (!v.closed) return `${v.name}: connection still open ${ANSWER_BOUND_MS} ms after a framing error`;
  if (v.originSaw.length > 0) return `${v.name}: the origin received ${JSON.stringify(v.originSaw)}`;
  return null;
}

describe('hostile HTTP/1.1 framing (request smuggling) against a real data plane', () => {
  let fleet: HostileFleet;

  before(async () => {
    fleet = await HostileFleet.start('smuggling');
  });

  after(async () => {
    await fleet?.stop();
  });

  test('every smuggling shape gets a 400 or a close; the origin sees no front and no smuggled request', async () => {
    await fleet.runCase('smuggling-shapes', {}, async () => {
      // One at a time, so that a shape that takes the process down is the one reported.
      const verdicts: Verdict[] = [];
      for (const shape of SMUGGLING_SHAPES) {
        const v = await send(fleet, shape);
        console.log(`  ${v.name}: statuses=${JSON.stringify(v.statuses)} closed=${v.closed} origin=${JSON.stringify(v.originSaw)}`);
        verdicts.push(v);
        if (!fleet.alive) throw new Error(`the data plane died after the ${shape.name} shape: ${JSON.stringify(verdicts.at(-1))}`);
      }
      const problems = verdicts.map(wrong).filter((p) => p !== null);
      assert.deepEqual(problems, []);
      return `${verdicts.filter((v) => v.statuses[0] === 400).length}x400+${verdicts.filter((v) => v.statuses.length === 0).length}xclosed/${verdicts.length}`;
    });
  });

  test('the crashing shapes (xchunked, bare-LF chunk line) repeated 20 times each keep the process up', async () => {
    const shapes = SMUGGLING_SHAPES.filter((s) => s.name === 'te-xchunked' || s.name === 'bare-lf-chunk-line');
    await fleet.runCase('smuggling-repeated', {}, async () => {
      const problems: string[] = [];
      for (let i = 0; i < 20; i++) {
        for (const shape of shapes) {
          const p = wrong(await send(fleet, shape));
          if (p !== null) problems.push(`#${i} ${p}`);
        }
        if (!fleet.alive) break;
      }
      assert.deepEqual(problems.slice(0, 5), []);
      return `400x${20 * shapes.length}`;
    });
  });
});
