/**
 * The operator console (issue 13): GET /ui/ and its static assets, public like /healthz (the
 * page holds no data; every call it makes goes to the REST API with the operator's token, kept
 * in sessionStorage). The assets are a fixed allow-list read once at registration: a path not
 * in the list — including any `..`, encoded or not — is 404, so nothing outside assets/ can
 * be served. `/ui` redirects to `/ui/` so the page's relative asset URLs resolve.
 *
 * Every answer carries UI_SECURITY_HEADERS: a CSP allowing only same-origin script, style and
 * fetch (no inline script, no framing), nosniff, no referrer; `Cache-Control: no-cache` with a
 * digest ETag (the browser revalidates, and a new build is never served stale).
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CpError } from '../errors.ts';

export const UI_ASSETS_DIR = join(import.meta.dirname, 'assets');

const JS = 'text/javascript; charset=utf-8';

/**
 * Served names → content type; index.html is also the answer for `/ui/`. The page loads
 * console.js (the shell), which imports the other modules: a new module must be listed here.
 */
export const UI_ASSETS: Readonly<Record<string, string>> = {
  'index.html': 'text/html; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
  'console.js': JS,
  'api.js': JS,
  'dom.js': JS,
  'permissions.js': JS,
  'actions.js': JS,
  'scope-page.js': JS,
  'history-page.js': JS,
  'diff-page.js': JS,
  'fleet-pages.js': JS,
  'audit-page.js': JS,
  'events-page.js': JS,
};

export const UI_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const UI_SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cache-control': 'no-cache',
};

interface Asset {
  readonly body: Buffer;
  readonly type: string;
  readonly etag: string;
}

/** Reads the allow-listed assets from `dir` (default UI_ASSETS_DIR); a missing one fails startup. */
export function loadUiAssets(dir = UI_ASSETS_DIR): ReadonlyMap<string, Asset> {
  const assets = new Map<string, Asset>();
  for (const [name, type] of Object.entries(UI_ASSETS)) {
    const body = readFileSync(join(dir, name));
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    assets.set(name, { body, type, etag });
  }
  return assets;
}

export async function uiRoutes(app: FastifyInstance): Promise<void> {
  const assets = loadUiAssets();
  const send = (request: FastifyRequest, reply: FastifyReply, name: string): FastifyReply | Buffer => {
    const asset = assets.get(name);
    if (!asset) throw new CpError('not_found', 'no such console asset');
    reply.headers(UI_SECURITY_HEADERS).header('etag', asset.etag);
    if (request.headers['if-none-match'] === asset.etag) return reply.code(304).send();
    reply.type(asset.type);
    return asset.body;
  };

  app.get('/ui', async (_request, reply) => reply.headers(UI_SECURITY_HEADERS).redirect('/ui/', 301));
  app.get('/ui/', async (request, reply) => send(request, reply, 'index.html'));
  app.get<{ Params: { '*': string } }>('/ui/*', async (request, reply) => send(request, reply, request.params['*']));
}
