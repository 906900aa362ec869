/**
 * A data plane attached to a control plane, started with any extra flags (cache grace, cache
 * max age…), plus reads of its admin endpoints. For the cold-start and distribution suites;
 * planes.ts's DataPlane.start covers the plain case.
 */
import { DATA_PLANE_MAIN } from './planes.ts';
import { SpawnedProcess } from './spawned-process.ts';

export interface StartedDataPlane {
  readonly proc: SpawnedProcess;
  readonly admin: string;
  readonly bootId: string;
}

export async function startDataPlane(opts: {
  controlPlane: string;
  nodeId: string;
  scope: string;
  cacheDir: string;
  extra?: string[];
}): Promise<StartedDataPlane> {
  const proc = new SpawnedProcess(`data-plane ${opts.nodeId}`, DATA_PLANE_MAIN, [
    '--control-plane', opts.controlPlane,
    '--node-id', opts.nodeId,
    '--scope', opts.scope,
    '--cache-dir', opts.cacheDir,
    '--admin', '127.0.0.1:0',
    ...(opts.extra ?? []),
  ]);
  const started = await proc.waitForLog((l) => l.msg === 'data plane started');
  return { proc, admin: String(started['admin']), bootId: String(started['bootId']) };
}

export interface GenerationView {
  serving: { scope: string; seq: number; digest: string; source: string } | null;
  reason?: string;
  listeners: { address: string; port: number }[];
}

export async function adminGeneration(admin: string): Promise<GenerationView> {
  const res = await fetch(`${admin}/generation`);
  return (await res.json()) as GenerationView;
}

export async function adminReadyStatus(admin: string): Promise<number> {
  const res = await fetch(`${admin}/ready`);
  await res.arrayBuffer();
  return res.status;
}
