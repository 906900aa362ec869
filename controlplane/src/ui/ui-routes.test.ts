/**
 * The console's static route, through the real buildApi (so registration is covered): the
 * allow-listed assets with their types and security headers, revalidation by ETag, the /ui
 * redirect, 404 for anything else (traversal attempts included), and the page's own contract
 * (no inline script, the token only in sessionStorage).
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type ApiKit, startApiKit } from '../api/api-test-kit.ts';
import { loadUiAssets, UI_ASSETS, UI_ASSETS_DIR, UI_CSP } from './ui-routes.ts';

describe('GET /ui/', () => {
  let kit: ApiKit;
  before(() => {
    kit = startApiKit();
  });
  after(() => kit.close());

  const get = (url: string, headers: Record<string, string> = {}) => kit.app.inject({ method: 'GET', url, headers });

  for (const [path, type] of [
    ['/ui/', 'text/html; charset=utf-8'],
    ...Object.entries(UI_ASSETS).map(([name, t]) => [`/ui/${name}`, t] as const),
  ] as const) {
    it(`serves ${path} as ${type} with the security headers, without a token`, async () => {
      const res = await get(path);
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-type'], type);
      assert.equal(res.headers['content-security-policy'], UI_CSP);
      assert.match(UI_CSP, /default-src 'self'/);
      assert.match(UI_CSP, /script-src 'self'(;|$)/, 'no unsafe-inline, no other origin');
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.headers['x-frame-options'], 'DENY');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
      assert.match(String(res.headers['etag']), /^"[A-Za-z0-9_-]{27}"$/);
      const file = path === '/ui/' ? 'index.html' : path.slice('/ui/'.length);
      assert.equal(res.body, readFileSync(join(UI_ASSETS_DIR, file), 'utf8'));
    });
  }

  it('answers 304 to a matching If-None-Match, with the headers', async () => {
    const first = await get('/ui/console.js');
    const again = await get('/ui/console.js', { 'if-none-match': String(first.headers['etag']) });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    assert.equal(again.headers['content-security-policy'], UI_CSP);
    const stale = await get('/ui/console.js', { 'if-none-match': '"other"' });
    assert.equal(stale.statusCode, 200);
  });

  it('redirects /ui to /ui/ (relative asset URLs need the slash)', async () => {
    const res = await get('/ui');
    assert.equal(res.statusCode, 301);
    assert.equal(res.headers['location'], '/ui/');
  });

  for (const path of [
    '/ui/nope.js',
    '/ui/ui-routes.ts',
    '/ui/assets/index.html',
    '/ui/../package.json',
    '/ui/%2e%2e/ui-routes.ts',
    '/ui/..%2fui-routes.ts',
    '/ui/%2e%2e%2f%2e%2e%2f..%2fpackage.json',
    '/ui/console.js/',
    '/ui/console.js%00',
    '/ui//etc/passwd',
  ]) {
    it(`404s ${path} (only the allow-list is served)`, async () => {
      const res = await get(path);
      assert.equal(res.statusCode, 404, `${path} → ${res.statusCode}`);
      assert.match(String(res.headers['content-type']), /^application\/problem\+json/);
      assert.doesNotMatch(res.body, /import|"name"|root:/);
    });
  }

  it('does not bypass the guard of the API it sits beside', async () => {
    assert.equal((await get('/v1/scopes/default/active')).statusCode, 401);
  });
});

describe('console page contract', () => {
  const html = readFileSync(join(UI_ASSETS_DIR, 'index.html'), 'utf8');
  const modules = readdirSync(UI_ASSETS_DIR).filter((f) => f.endsWith('.js'));
  // The code of every module without its comments (which name what it must not do).
  const sources = new Map(modules.map((f) => [f, readFileSync(join(UI_ASSETS_DIR, f), 'utf8').replace(/^\s*\/\/.*$/gm, '')]));
  const js = [...sources.values()].join('\n');

  it('serves every module in assets/, and every module imported is one of them (no build step, no other origin)', () => {
    assert.deepEqual(modules.sort(), Object.keys(UI_ASSETS).filter((f) => f.endsWith('.js')).sort());
    for (const [file, text] of sources) {
      for (const [, spec] of text.matchAll(/^import\b[^;]*?from '([^']+)';/gm)) {
        assert.match(spec ?? '', /^\.\/[a-z-]+\.js$/, `${file} imports ${spec}`);
        assert.ok(modules.includes((spec ?? '').slice(2)), `${file} imports ${spec}, which is not served`);
      }
      assert.ok(text.split('\n').length <= 300, `${file} stays small`);
    }
  });

  it('has no inline script or style (the CSP would block it)', () => {
    for (const tag of html.match(/<script\b[^>]*>/g) ?? []) assert.match(tag, /\bsrc="console\.js"/);
    assert.doesNotMatch(html, /<script\b[^>]*>[^<]+<\/script>/);
    assert.doesNotMatch(html, /\sstyle=|<style\b|\son[a-z]+=/i);
    assert.doesNotMatch(html, /https?:\/\//, 'no CDN or other origin');
  });

  it('keeps the token in sessionStorage only, sent as a Bearer header, and never writes markup from data', () => {
    assert.match(js, /sessionStorage\.setItem\(TOKEN_KEY/);
    assert.match(js, /authorization: `Bearer \$\{token\(\)\}`/);
    const forbidden = /localStorage|document\.cookie|innerHTML|outerHTML|insertAdjacentHTML|eval\(|new Function|[?&]token=/.exec(js);
    assert.equal(forbidden, null, `a console module uses ${forbidden?.[0]}`);
  });

  it('loadUiAssets fails when an asset is missing (startup, not a 500 later)', () => {
    assert.throws(() => loadUiAssets(join(UI_ASSETS_DIR, 'missing')), /ENOENT/);
  });
});
