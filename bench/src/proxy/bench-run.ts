/**
 * The lifecycle every bench entry point shares: one ProcessRegistry and one temp directory per
 * run; `shutdown` stops every process the run started, removes the directory and exits —
 * only the first call counts (Ctrl-C also makes the running cell fail; that failure must not
 * exit before the processes are stopped); SIGINT / SIGTERM and the `--max-minutes` watchdog
 * go through it; `main` runs the body and exits 0, or prints the failure once and exits 1.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRegistry } from './process-registry.ts';

export interface BenchRun {
  readonly reg: ProcessRegistry;
  /** Temp directory of this run (configs, logs), removed by shutdown. */
  readonly dir: string;
  shutdown(code: number, why: string | null): Promise<never>;
  /** Runs `body`, then shuts down with 0; on a throw prints it (unless already stopping) and exits 1. */
  main(body: () => Promise<void>): Promise<never>;
}

/** `label` prefixes the stop message ("memory bench: interrupted; …"); `maxMinutes` bounds the run. */
export function startBenchRun(label: string, dirPrefix: string, maxMinutes: number): BenchRun {
  const reg = new ProcessRegistry();
  const dir = mkdtempSync(join(tmpdir(), dirPrefix));
  let stopping: Promise<never> | null = null;
  const shutdown = (code: number, why: string | null): Promise<never> => {
    stopping ??= (async () => {
      if (why) console.error(`${label}: ${why}; stopping every process it started`);
      await reg.stopAll();
      rmSync(dir, { recursive: true, force: true });
      process.exit(code);
    })();
    return stopping;
  };
  process.on('SIGINT', () => void shutdown(130, 'interrupted'));
  process.on('SIGTERM', () => void shutdown(143, 'terminated'));
  setTimeout(() => void shutdown(1, `--max-minutes ${maxMinutes} exceeded`), maxMinutes * 60_000).unref();
  return {
    reg,
    dir,
    shutdown,
    async main(body) {
      try {
        await body();
        return await shutdown(0, null);
      } catch (err) {
        if (!stopping) console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
        return await shutdown(1, 'failed');
      }
    },
  };
}
