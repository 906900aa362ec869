/** Anything that emits 'drain' and 'close' and says whether it needs a drain (node streams). */
export interface Drainable {
  readonly writableNeedDrain: boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

/**
 * Resolves when `stream` can take more (its 'drain') or can take nothing ever again ('close');
 * at once when it is not waiting for a drain. Used by every ResponseSink's drain().
 */
export function waitForDrain(stream: Drainable): Promise<void> {
  if (!stream.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      stream.off('drain', done);
      stream.off('close', done);
      resolve();
    };
    stream.on('drain', done);
    stream.on('close', done);
  });
}
