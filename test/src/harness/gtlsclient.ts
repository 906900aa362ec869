/**
 * Drives ngtcp2's `gtlsclient` (Debian package ngtcp2-client): an independent HTTP/3 + QUIC
 * implementation, so our server is checked against a peer that shares no code with it.
 */
import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export function gtlsclientAvailable(): boolean {
  try {
    execFileSync('gtlsclient', ['--help'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export interface GtlsResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

/** GET `path` from 127.0.0.1:port over HTTP/3 with gtlsclient. */
export function gtlsGet(port: number, path: string, timeoutMs = 15_000): Promise<GtlsResponse> {
  const dir = mkdtempSync(join(tmpdir(), 'spooky-gtls-'));
  const args = ['--exit-on-all-streams-close', '--no-quic-dump', `--timeout=${Math.ceil(timeoutMs / 1000)}s`, `--download=${dir}`,
    '127.0.0.1', String(port), `https://127.0.0.1:${port}${path}`];
  return new Promise((resolve, reject) => {
    execFile('gtlsclient', args, { timeout: timeoutMs + 2000, maxBuffer: 64 * 1024 * 1024 }, (err, _stdout, stderr) => {
      try {
        const headers: Record<string, string> = {};
        let status = 0;
        for (const m of stderr.matchAll(/http: stream 0x0 \[([^:\]]*|:status): ([^\]]*)\]/g)) {
          if (m[1] === ':status') status = Number(m[2]);
          else if (m[1]) headers[m[1]] = m[2] ?? '';
        }
        if (status === 0) {
          reject(new Error(`gtlsclient got no response${err ? `: ${err.message}` : ''}\n${stderr.slice(-2000)}`));
          return;
        }
        const files = readdirSync(dir);
        const body = files[0] ? readFileSync(join(dir, files[0])) : Buffer.alloc(0);
        resolve({ status, headers, body });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}
