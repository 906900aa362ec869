/**
 * Test fixture (never imported by production code): the composed control plane on a real SQLite
 * file with a manual clock and no timers, a fleet of nodes that talks through the real
 * NodeRecorder and HealthSink (as distribution would), and helpers to ACK and report health.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LATENCY_BUCKET_BOUNDS_MS } from '@spooky/proto';
import { type ControlPlaneCore, composeControlPlane } from '../compose.ts';
import type { GenerationHealthFacts, GenerationRef } from '../distribution/ports.ts';
import { openStore, type SqliteStore } from '../store/open-store.ts';
import type { Scheduler } from './rollout-driver.ts';

const minimalYaml = readFileSync(new URL('../../../config/examples/minimal.yaml', import.meta.url), 'utf8');
export const SCOPE = 'default';
export const who = { actor: 'tester', reason: 'test' };

/** Timers never fire by themselves: tests drive the driver with `observe`. */
export const manualScheduler: Scheduler = { set: () => () => {} };

export interface QueuedTask {
  readonly fn: () => void;
  readonly delayMs: number;
  cancelled: boolean;
}

/** Records every timer; a test runs them with `runTask`. */
export class QueueScheduler implements Scheduler {
  readonly tasks: QueuedTask[] = [];
  set(fn: () => void, delayMs: number): () => void {
    const task: QueuedTask = { fn, delayMs, cancelled: false };
    this.tasks.push(task);
    return () => {
      task.cancelled = true;
    };
  }
  pending(): QueuedTask[] {
    return this.tasks.filter((t) => !t.cancelled);
  }
  /** Runs (and removes) one pending task. */
  run(task: QueuedTask): void {
    this.tasks.splice(this.tasks.indexOf(task), 1);
    task.fn();
  }
}

export interface KitNode {
  readonly id: string;
  readonly labels: Record<string, string>;
}

export const FLEET: readonly KitNode[] = [
  { id: 'c1', labels: { role: 'canary' } },
  { id: 'n1', labels: {} },
  { id: 'n2', labels: {} },
  { id: 'n3', labels: {} },
  { id: 'n4', labels: {} },
];

export class DriverKit {
  readonly path: string;
  nowMs: number;
  store!: SqliteStore;
  core!: ControlPlaneCore;
  readonly assignmentEvents: string[][] = [];

  readonly #scheduler: Scheduler;

  constructor(dir: string, name: string, scheduler: Scheduler = manualScheduler, startMs = Date.parse('2026-03-01T10:00:00Z')) {
    this.path = join(dir, `${name}.db`);
    this.nowMs = startMs;
    this.#scheduler = scheduler;
    this.open();
  }

  /** Opens the store and composes the control plane (does not start the driver). */
  open(): void {
    const clock = { now: () => new Date(this.nowMs) };
    this.store = openStore(this.path, { now: clock.now });
    this.core = composeControlPlane(this.store, { clock, reportIntervalMs: 1000, scheduler: this.#scheduler });
    this.core.assignments.onAssignmentsChanged((_scope, nodes) => this.assignmentEvents.push([...nodes]));
  }

  /** A control-plane restart: a new driver on the same file. */
  reopen(): void {
    this.core.rolloutDriver.stop();
    this.store.close();
    this.open();
    this.core.rolloutDriver.start();
  }

  close(): void {
    this.core.rolloutDriver.stop();
    this.store.close();
  }

  advance(ms: number): void {
    this.nowMs += ms;
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  /** A new generation (distinct by its listener port). */
  generation(port: number): GenerationRef {
    const g = this.core.generations.create(SCOPE, { text: minimalYaml.replace('9889', String(port)) }, who).generation;
    return { scope: SCOPE, seq: g.seq, digest: g.digest };
  }

  /** g1 active and LKG, the fleet connected serving it. */
  converge(): GenerationRef {
    const g1 = this.generation(9001);
    this.core.active.activate(SCOPE, g1.seq, 0, who);
    for (const n of FLEET) {
      this.core.recorder.connected({
        nodeId: n.id,
        bootId: `${n.id}-boot`,
        scope: SCOPE,
        labels: n.labels,
        schemaMin: 1,
        schemaMax: 1,
        build: 'test',
        serving: g1,
        source: 'control-plane',
        at: this.now(),
      });
    }
    if (this.core.active.lkg(SCOPE)?.seq !== g1.seq) throw new Error('fixture: g1 did not become LKG');
    return g1;
  }

  ack(nodes: readonly string[], ref: GenerationRef): void {
    for (const id of nodes) this.core.recorder.acked(id, `${id}-boot`, ref, this.now(), true);
  }

  nack(id: string, ref: GenerationRef, phase: string, serving: GenerationRef): void {
    this.core.recorder.nacked({
      nodeId: id,
      bootId: `${id}-boot`,
      nonce: 'n',
      rejected: ref,
      stillServing: serving,
      phase,
      retryable: false,
      issues: [],
      at: this.now(),
    });
  }

  /**
   * One closed 1 s window per node ending now: every node reports `lkg`; nodes in `cohort` also
   * report `target` (the in-node canary share), with `targetErrors` local 5xx of 100 requests.
   */
  report(lkg: GenerationRef, target: GenerationRef, cohort: readonly string[], targetErrors = 0): void {
    const toMs = this.nowMs;
    const fromMs = toMs - 1000;
    for (const n of FLEET) {
      const windows = [window(lkg, fromMs, toMs, 0)];
      if (cohort.includes(n.id)) windows.push(window(target, fromMs, toMs, targetErrors));
      this.core.health.windows(n.id, SCOPE, windows, this.now());
    }
  }
}

function window(ref: GenerationRef, fromMs: number, toMs: number, local5xx: number): GenerationHealthFacts {
  const latencyCounts = LATENCY_BUCKET_BOUNDS_MS.map(() => 0).concat([0]);
  latencyCounts[3] = 100;
  return { generation: ref, fromMs, toMs, requests: 100, local5xx, upstream5xx: 0, latencyCounts };
}
