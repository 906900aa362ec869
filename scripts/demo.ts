/**
 * The demo (README's first command, via scripts/demo.sh). On loopback it starts: a control
 * plane (SQLite under .demo/), two origins (HTTP/1.1 and HTTP/2), and one data plane; loads
 * config/examples/demo.yaml as a generation and activates it; then prints how to talk to it.
 * Ctrl-C (or SIGTERM to the printed pid) stops everything. State (database, token, certificate)
 * is kept in .demo/ across runs; the planes' logs are appended to .demo/logs/.
 * The planes are secured as README "Securing the planes" says: a dev PKI in .demo/pki (made by
 * the `spookyctl pki` code, see demo-pki.ts), REST over TLS and gRPC over mutual TLS with the
 * data plane presenting its node certificate. Every command the banner prints trusts ca.crt.
 */
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { join, relative } from 'node:path';
import { ensureSelfSignedCert } from '../test/src/harness/certs.ts';
import { h3Fetch } from '../test/src/harness/h3-client.ts';
import { type Origin, startH1Origin, startH2Origin } from '../test/src/harness/origins.ts';
import { ControlPlane, DataPlane, writeAdminToken } from '../test/src/harness/planes.ts';
import type { SpawnedProcess } from '../test/src/harness/spawned-process.ts';
import { ensureDemoPki } from './demo-pki.ts';

const root = join(import.meta.dirname, '..');
// SPOOKY_DEMO_DIR: where the state lives (default .demo; the e2e test points it at a temp dir).
const demo = process.env['SPOOKY_DEMO_DIR'] ?? join(root, '.demo');
const PORTS = { h3: 9889, api: 18080, grpc: 18090, admin: 18070, h1: 18081, h2: 18082 };
const SCOPE = 'default';
const NODE_ID = 'demo-node-1';

process.chdir(root);
const cert = ensureSelfSignedCert(join(demo, 'certs'));
const tokenFile = join(demo, 'admin-token');
const tokensFile = join(demo, 'cp', 'tokens.json');
if (!existsSync(tokenFile) || !existsSync(tokensFile)) {
  mkdirSync(join(demo, 'cp'), { recursive: true });
  writeFileSync(tokenFile, writeAdminToken(tokensFile, 'demo-admin'), { mode: 0o600 });
}
const token = readFileSync(tokenFile, 'utf8').trim();
const pki = await ensureDemoPki(join(demo, 'pki'), SCOPE, NODE_ID);
const caPem = readFileSync(pki.ca);
/** Paths as the banner prints them: relative to the repository root (where it says to run). */
const rel = (file: string) => relative(root, file);

interface Reply<T> {
  readonly status: number;
  readonly body: T;
}
/** The demo's own REST calls, over TLS trusting only the demo CA (fetch cannot take a CA). */
function api<T>(method: string, path: string, opts: { body?: unknown; yaml?: string; reason?: string; headers?: Record<string, string> } = {}): Promise<Reply<T>> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...(opts.headers ?? {}) };
  if (opts.reason !== undefined) headers['spooky-change-reason'] = opts.reason;
  let payload: string | undefined;
  if (opts.yaml !== undefined) {
    headers['content-type'] = 'application/yaml';
    payload = opts.yaml;
  } else if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(opts.body);
  }
  return new Promise((resolve, reject) => {
    const req = request(`https://127.0.0.1:${PORTS.api}${path}`, { method, headers, ca: caPem, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // not JSON
        }
        resolve({ status: res.statusCode ?? 0, body: parsed as T });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}

const logs = join(demo, 'logs');
mkdirSync(logs, { recursive: true });
// gtlsclient's --download directory (the banner's HTTP/3 line): it must exist beforehand.
mkdirSync(join(demo, 'download'), { recursive: true });
const LOG_FILES = { controlPlane: join(logs, 'control-plane.log'), dataPlane: join(logs, 'data-plane.log') };

/** Appends a plane's stdout and stderr (its pino lines) to `file`, so the banner can name it. */
function tee(proc: SpawnedProcess, file: string): void {
  const out = createWriteStream(file, { flags: 'a' });
  proc.child.stdout?.pipe(out, { end: false });
  proc.child.stderr?.pipe(out, { end: false });
}

const started: Array<{ stop(): Promise<unknown> }> = [];
let stopping = false;
async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    for (const s of started.reverse()) await s.stop().catch(() => {});
  }
  process.exit(code);
}
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  const h1: Origin = await startH1Origin('demo-origin-h1', PORTS.h1);
  started.push({ stop: () => h1.close() });
  const h2: Origin = await startH2Origin('demo-origin-h2', cert, PORTS.h2);
  started.push({ stop: () => h2.close() });
  const cp = await ControlPlane.start(join(demo, 'cp'), {
    http: `127.0.0.1:${PORTS.api}`,
    grpc: `127.0.0.1:${PORTS.grpc}`,
    token,
    extra: ['--http-tls-cert', pki.cpCert, '--http-tls-key', pki.cpKey, '--grpc-tls-cert', pki.cpCert, '--grpc-tls-key', pki.cpKey, '--grpc-client-ca', pki.ca],
  });
  started.push({ stop: () => cp.proc.stop() });
  tee(cp.proc, LOG_FILES.controlPlane);
  // demo.yaml names the listener certificate under .demo/certs; with SPOOKY_DEMO_DIR it lives there instead.
  const yaml = readFileSync(join(root, 'config', 'examples', 'demo.yaml'), 'utf8').replaceAll('.demo/certs/', `${join(demo, 'certs')}/`);
  const created = await api<{ seq: number }>('POST', `/v1/scopes/${SCOPE}/generations`, { yaml, reason: 'demo: load config/examples/demo.yaml' });
  if (created.status !== 201 && created.status !== 200) throw new Error(`loading demo.yaml failed: ${JSON.stringify(created.body)}`);
  const active = await api<{ seq: number | null; version: number }>('GET', `/v1/scopes/${SCOPE}/active`);
  if (active.body.seq === null) {
    const put = await api('PUT', `/v1/scopes/${SCOPE}/active`, {
      reason: 'demo: first activation',
      body: { seq: created.body.seq },
      headers: { 'if-match': `"${active.body.version}"` },
    });
    if (put.status !== 200) throw new Error(`activating failed: ${JSON.stringify(put.body)}`);
  }
  const dp = await DataPlane.start({
    controlPlane: cp.grpc,
    nodeId: NODE_ID,
    scope: SCOPE,
    cacheDir: join(demo, 'cache'),
    admin: `127.0.0.1:${PORTS.admin}`,
    extra: ['--ca-file', pki.ca, '--cert', pki.nodeCert, '--key', pki.nodeKey],
  });
  started.push({ stop: () => dp.proc.stop() });
  tee(dp.proc, LOG_FILES.dataPlane);
  await dp.proc.waitForLog((l) => l.msg === 'generation applied');
  const check = await h3Fetch(PORTS.h3, { path: '/h1/hello' });
  if (check.status !== 200) throw new Error(`self-check over HTTP/3 answered ${check.status}`);
  // What the banner's activate line needs: the pointer's version (its ETag) now, and the seq the
  // next new generation gets (seqs only grow, so it is the newest seq + 1).
  const now = await api<{ version: number }>('GET', `/v1/scopes/${SCOPE}/active`);
  const newest = await api<{ items: { seq: number }[] }>('GET', `/v1/scopes/${SCOPE}/generations?limit=1`);
  const nextSeq = (newest.body.items[0]?.seq ?? 0) + 1;
  printBanner(process.env['PATH']?.split(':')[0]?.endsWith('.tooling/bin') ? '.tooling/bin/node' : 'node', now.body.version, nextSeq);
} catch (err) {
  console.error(`demo: ${(err as Error).message}`);
  await stopAll(1);
}

function printBanner(node: string, version: number, nextSeq: number): void {
  const api = `https://127.0.0.1:${PORTS.api}`;
  const auth = `--cacert ${rel(pki.ca)} -H "Authorization: Bearer ${token}"`;
  const copy = rel(join(demo, 'my.yaml'));
  const ctl = `${node} controlplane/src/cli/spookyctl.ts`;
  console.log(`
Spooky demo is running (pid ${process.pid}; Ctrl-C or kill ${process.pid} stops everything).

  HTTP/3 (and HTTP/1.1 + HTTP/2 over TLS) : https://127.0.0.1:${PORTS.h3}/   (/h1/* → HTTP/1.1 origin, /h2/* → HTTP/2 origin)
  control plane REST API (TLS)            : ${api}
  control plane gRPC (mutual TLS)         : 127.0.0.1:${PORTS.grpc}   (data plane ${NODE_ID} presents ${rel(pki.nodeCert)})
  dev PKI (spookyctl pki)                 : ${rel(pki.ca)}, ${rel(pki.cpCert)}/.key, ${rel(pki.nodeCert)}/.key
  data plane admin                        : http://127.0.0.1:${PORTS.admin}/generation  (/ready, /metrics)
  admin token                             : ${token}
  logs (pino JSON lines)                  : ${LOG_FILES.controlPlane}
                                            ${LOG_FILES.dataPlane}

Send an HTTP/3 request:
  ${node} scripts/h3-get.ts -i https://127.0.0.1:${PORTS.h3}/h2/hello
  gtlsclient -q --exit-on-all-streams-close --download=${rel(join(demo, 'download'))} 127.0.0.1 ${PORTS.h3} https://127.0.0.1:${PORTS.h3}/h1/hello \\
    && cat ${rel(join(demo, 'download', 'hello'))}    # Debian: ngtcp2-client; -q drops its debug dump, --download keeps the body

With spookyctl (same token; run from the repository root):
  export SPOOKY_SERVER=${api} SPOOKY_CA_FILE=${rel(pki.ca)} SPOOKY_TOKEN=${token}
  cp config/examples/demo.yaml ${copy}     # then edit ${copy}
  ${ctl} plan ${copy}
  ${ctl} push ${copy} --reason "demo edit" --activate --wait
  ${ctl} status
  ${ctl} rollback --to previous --reason "demo rollback" --wait
  ${ctl} history

The same with curl: push the edited copy, then activate it (If-Match = the pointer version now,
seq = the one the push answers; ${nextSeq} when the copy is new, a copy identical to a stored
generation answers that generation's seq):
  curl -s ${auth} -H "Spooky-Change-Reason: demo edit" -H "Content-Type: application/yaml" \\
       --data-binary @${copy} ${api}/v1/scopes/${SCOPE}/generations
  curl -s -X PUT ${auth} -H "Spooky-Change-Reason: demo edit" -H 'If-Match: "${version}"' \\
       -H "Content-Type: application/json" -d '{"seq": ${nextSeq}}' ${api}/v1/scopes/${SCOPE}/active
  curl -si ${auth} ${api}/v1/scopes/${SCOPE}/active            # the pointer; its ETag is the next If-Match

Roll back to the previous generation:
  curl -s -X POST ${auth} -H "Spooky-Change-Reason: demo rollback" -H "Content-Type: application/json" \\
       -d '{"to": "previous"}' ${api}/v1/scopes/${SCOPE}/rollback

Fleet view:
  curl -s ${auth} ${api}/v1/nodes
`);
}
