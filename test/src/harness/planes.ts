/**
 * Starting the real planes as child processes, the way an operator would, and talking to the
 * control plane's REST API (the data plane's starter is data-plane.ts). Used by the
 * end-to-end suites and the demo.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SpawnedProcess } from './spawned-process.ts';

// The data plane starter lives in data-plane.ts; re-exported for the callers of this module.
export { DATA_PLANE_MAIN, DataPlane } from './data-plane.ts';

export const CONTROL_PLANE_MAIN = join(import.meta.dirname, '..', '..', '..', 'controlplane', 'src', 'main.ts');

/** Writes a tokens file holding one admin token (stored hashed) and returns the token. */
export function writeAdminToken(tokensFile: string, name = 'admin'): string {
  const token = `spk_${randomBytes(24).toString('hex')}`;
  const sha256 = createHash('sha256').update(token).digest('hex');
  writeFileSync(tokensFile, JSON.stringify({ tokens: [{ name, sha256, permissions: ['admin'], scopes: ['*'] }] }, null, 2), { mode: 0o600 });
  return token;
}

export interface ApiResponse<T = unknown> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export class ControlPlane {
  readonly proc: SpawnedProcess;
  readonly dir: string;
  readonly token: string;
  http = '';
  grpc = '';

  private constructor(proc: SpawnedProcess, dir: string, token: string) {
    this.proc = proc;
    this.dir = dir;
    this.token = token;
  }

  /**
   * Starts a control plane with its SQLite file in `dir`; `http`/`grpc` fixed or port 0.
   * `extra` flags are appended as given (e.g. the --grpc-tls-* files).
   */
  static async start(
    dir: string,
    opts: { http?: string; grpc?: string; token?: string; reportIntervalMs?: number; extra?: readonly string[] } = {},
  ): Promise<ControlPlane> {
    mkdirSync(dir, { recursive: true });
    const tokensFile = join(dir, 'tokens.json');
    const token = opts.token ?? writeAdminToken(tokensFile);
    const proc = new SpawnedProcess('control-plane', CONTROL_PLANE_MAIN, [
      '--db', join(dir, 'spooky.db'),
      '--http', opts.http ?? '127.0.0.1:0',
      '--grpc', opts.grpc ?? '127.0.0.1:0',
      '--tokens', tokensFile,
      '--report-interval-ms', String(opts.reportIntervalMs ?? 10_000),
      ...(opts.extra ?? []),
    ]);
    const cp = new ControlPlane(proc, dir, token);
    const ready = await proc.waitForLog((l) => l.msg === 'control plane ready');
    cp.http = String(ready['http']);
    cp.grpc = String(ready['grpc']);
    return cp;
  }

  /** Calls the REST API with the admin token. `reason` sets Spooky-Change-Reason. */
  async api<T = unknown>(
    method: string,
    path: string,
    opts: { body?: unknown; yaml?: string; headers?: Record<string, string>; reason?: string } = {},
  ): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { authorization: `Bearer ${this.token}`, ...(opts.headers ?? {}) };
    if (opts.reason) headers['spooky-change-reason'] = opts.reason;
    let body: string | undefined;
    if (opts.yaml !== undefined) {
      headers['content-type'] = 'application/yaml';
      body = opts.yaml;
    } else if (opts.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(opts.body);
    }
    const res = await fetch(`${this.http}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON (metrics text)
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** Creates a generation from config (object or YAML text) and activates it; returns its seq. */
  async pushAndActivate(scope: string, config: unknown, reason: string): Promise<number> {
    const created = await this.api<{ seq: number }>('POST', `/v1/scopes/${scope}/generations`, {
      reason,
      ...(typeof config === 'string' ? { yaml: config } : { body: config }),
    });
    if (created.status !== 201 && created.status !== 200) {
      throw new Error(`create generation: ${created.status} ${JSON.stringify(created.body)}`);
    }
    const active = await this.api<{ version: number }>('GET', `/v1/scopes/${scope}/active`);
    const put = await this.api('PUT', `/v1/scopes/${scope}/active`, {
      reason,
      body: { seq: created.body.seq },
      headers: { 'if-match': `"${active.body.version}"` },
    });
    if (put.status !== 200) throw new Error(`activate: ${put.status} ${JSON.stringify(put.body)}`);
    return created.body.seq;
  }
}
