import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CrashWindow, RESTART_BASE_MS, RESTART_MAX_MS, WINDOW_MS } from './crash-window.ts';

describe('CrashWindow', () => {
  it('backs off exponentially and gives up on the 5th exit within 60 s', () => {
    const w = new CrashWindow();
    const verdicts = [0, 1000, 2000, 3000, 4000].map((t) => w.record(t));
    assert.deepEqual(verdicts.slice(0, 4), [
      { kind: 'restart', delayMs: RESTART_BASE_MS, recent: 1 },
      { kind: 'restart', delayMs: 2 * RESTART_BASE_MS, recent: 2 },
      { kind: 'restart', delayMs: 4 * RESTART_BASE_MS, recent: 3 },
      { kind: 'restart', delayMs: 8 * RESTART_BASE_MS, recent: 4 },
    ]);
    assert.deepEqual(verdicts[4], { kind: 'give-up', recent: 5 });
  });

  it('forgets exits older than the window, and caps the delay', () => {
    const w = new CrashWindow(100, WINDOW_MS);
    for (let i = 0; i < 4; i++) w.record(i);
    assert.deepEqual(w.record(WINDOW_MS + 10), { kind: 'restart', delayMs: RESTART_BASE_MS, recent: 1 });
    let last = w.record(WINDOW_MS + 11);
    for (let i = 0; i < 20; i++) last = w.record(WINDOW_MS + 12 + i);
    assert.ok(last.kind === 'restart' && last.delayMs === RESTART_MAX_MS);
  });
});
