/**
 * Headless Debian Chromium as a real browser client, driven over the DevTools protocol on
 * `--remote-debugging-pipe` (fd 3: commands in, fd 4: answers and events out, each message
 * JSON ended by a NUL byte): no npm dependency, no port. Every wait is bounded; the browser
 * runs with a throwaway profile and HOME (its NSS database lives there) that close() removes.
 *
 * Trust: a self-signed certificate is accepted with `--ignore-certificate-errors-spki-list`
 * (spkiHash below). Over QUIC, Chromium additionally refuses any certificate not issued by a
 * root it ships ("known root") unless the host is in its allow-list, which it fills only from
 * `--origin-to-force-quic-on`: forcing QUIC on the host at some other port allows the host
 * without forcing the origin under test (what the Alt-Svc test needs).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';

export const CHROMIUM_PATH = process.env['SPOOKY_CHROMIUM'] ?? '/usr/bin/chromium';

/** Null when Chromium runs here (`--version` answers), else why not. */
export function chromiumUnavailable(): string | null {
  if (!existsSync(CHROMIUM_PATH)) return `${CHROMIUM_PATH} not found (Debian package chromium)`;
  const r = spawnSync(CHROMIUM_PATH, ['--version'], { encoding: 'utf8', timeout: 20_000 });
  if (r.error || r.status !== 0) return `${CHROMIUM_PATH} --version failed: ${r.error?.message ?? r.stderr.trim().slice(0, 200)}`;
  return null;
}

/** base64(SHA-256(SubjectPublicKeyInfo)) of a PEM certificate file: the value Chromium's SPKI allow-list takes. */
export function spkiHash(certFile: string): string {
  const der = new X509Certificate(readFileSync(certFile)).publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(der).digest('base64');
}

const BASE_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-extensions',
  '--disable-dev-shm-usage',
  '--remote-debugging-pipe',
];

interface Pending {
  readonly resolve: (result: Record<string, unknown>) => void;
  readonly reject: (err: Error) => void;
  readonly timer: NodeJS.Timeout;
}

interface EventWaiter {
  readonly method: string;
  readonly sessionId: string | undefined;
  readonly resolve: (params: Record<string, unknown>) => void;
  readonly reject: (err: Error) => void;
}

export class Chromium {
  readonly #child: ChildProcess;
  readonly #input: Writable;
  readonly #home: string;
  readonly #stderr: string[] = [];
  readonly #pending = new Map<number, Pending>();
  readonly #waiters = new Set<EventWaiter>();
  readonly #listeners = new Set<Omit<EventWaiter, 'reject'>>();
  readonly #exited: Promise<void>;
  #nextId = 1;
  #buffered = '';
  #dead: Error | null = null;

  private constructor(child: ChildProcess, home: string) {
    this.#child = child;
    this.#home = home;
    this.#input = child.stdio[3] as Writable;
    const output = child.stdio[4] as Readable;
    this.#exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.on('error', (err) => this.#fail(new Error(`chromium: ${err.message}`)));
    child.once('exit', (code, signal) => this.#fail(new Error(`chromium exited (${code ?? signal})\n${this.stderrTail()}`)));
    this.#input.on('error', (err) => this.#fail(new Error(`chromium pipe: ${err.message}`)));
    output.on('error', (err) => this.#fail(new Error(`chromium pipe: ${err.message}`)));
    output.setEncoding('utf8');
    output.on('data', (chunk: string) => this.#onData(chunk));
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      this.#stderr.push(...chunk.split('\n').filter((l) => l !== '' && !l.includes('dbus')));
      if (this.#stderr.length > 200) this.#stderr.splice(0, this.#stderr.length - 200);
    });
  }

  /**
   * Starts Chromium with the base headless flags plus `flags` and resolves once it answers a
   * protocol command (within `timeoutMs`); rejects (process killed) otherwise.
   */
  static async launch(flags: readonly string[], timeoutMs = 20_000): Promise<Chromium> {
    const home = mkdtempSync(join(tmpdir(), 'spooky-chromium-'));
    const child = spawn(CHROMIUM_PATH, [...BASE_FLAGS, `--user-data-dir=${join(home, 'profile')}`, ...flags, 'about:blank'], {
      env: { ...process.env, HOME: home },
      stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'],
    });
    const browser = new Chromium(child, home);
    try {
      await browser.send('Browser.getVersion', {}, undefined, timeoutMs);
      return browser;
    } catch (err) {
      await browser.close();
      throw err;
    }
  }

  /** Sends one protocol command (to a page when `sessionId` is given); bounded by `timeoutMs`. */
  send(method: string, params: Record<string, unknown> = {}, sessionId?: string, timeoutMs = 10_000): Promise<Record<string, unknown>> {
    if (this.#dead) return Promise.reject(this.#dead);
    const id = this.#nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`chromium: ${method} not answered within ${timeoutMs} ms\n${this.stderrTail()}`));
      }, timeoutMs);
      this.#pending.set(id, { resolve, reject, timer });
      this.#input.write(`${JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) })}\0`);
    });
  }

  /** Resolves at the next event `method` (of the page `sessionId`); rejects after `timeoutMs` or when the browser dies. */
  nextEvent(method: string, sessionId: string | undefined, timeoutMs: number): Promise<Record<string, unknown>> {
    if (this.#dead) return Promise.reject(this.#dead);
    return new Promise((resolve, reject) => {
      const waiter: EventWaiter = {
        method,
        sessionId,
        resolve: (params) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(params);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        reject(new Error(`chromium: no ${method} within ${timeoutMs} ms\n${this.stderrTail()}`));
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Calls `fn` for every event `method` of the page `sessionId` until the browser closes. */
  on(method: string, sessionId: string | undefined, fn: (params: Record<string, unknown>) => void): void {
    this.#listeners.add({ method, sessionId, resolve: fn });
  }

  /** A new tab, attached (flat protocol sessions). */
  async newPage(): Promise<Page> {
    const { targetId } = (await this.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await this.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    await this.send('Page.enable', {}, sessionId);
    return new Page(this, sessionId);
  }

  stderrTail(n = 20): string {
    return this.#stderr.slice(-n).join('\n');
  }

  /** Asks the browser to close, SIGKILLs it after 5 s, removes its profile. Idempotent. */
  async close(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.send('Browser.close', {}, undefined, 5_000).catch(() => {});
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), 5_000);
      await this.#exited;
      clearTimeout(timer);
    }
    rmSync(this.#home, { recursive: true, force: true });
  }

  #onData(chunk: string): void {
    this.#buffered += chunk;
    let end = this.#buffered.indexOf('\0');
    while (end >= 0) {
      const text = this.#buffered.slice(0, end);
      this.#buffered = this.#buffered.slice(end + 1);
      this.#onMessage(JSON.parse(text) as Message);
      end = this.#buffered.indexOf('\0');
    }
  }

  #onMessage(msg: Message): void {
    if (typeof msg.id === 'number') {
      const pending = this.#pending.get(msg.id);
      if (!pending) return;
      this.#pending.delete(msg.id);
      clearTimeout(pending.timer);
      if (msg.error) pending.reject(new Error(`chromium: ${msg.error.message}`));
      else pending.resolve(msg.result ?? {});
      return;
    }
    for (const w of this.#waiters) {
      if (w.method === msg.method && w.sessionId === msg.sessionId) w.resolve(msg.params ?? {});
    }
    for (const l of this.#listeners) {
      if (l.method === msg.method && l.sessionId === msg.sessionId) l.resolve(msg.params ?? {});
    }
  }

  #fail(err: Error): void {
    if (this.#dead) return;
    this.#dead = err;
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(err);
    }
    this.#pending.clear();
    for (const w of this.#waiters) w.reject(err);
    this.#waiters.clear();
    this.#listeners.clear();
  }
}

interface Message {
  id?: number;
  method?: string;
  sessionId?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

export interface ResponseSeen {
  readonly path: string;
  readonly protocol: string;
  readonly altSvc: string | null;
}

export class Page {
  readonly #browser: Chromium;
  readonly #sessionId: string;

  constructor(browser: Chromium, sessionId: string) {
    this.#browser = browser;
    this.#sessionId = sessionId;
  }

  /**
   * From now on, records every response the page receives (Network domain): path, protocol as
   * Chromium reports it (`h2`, `h3`, …) and its Alt-Svc header. The array fills as they arrive.
   */
  async recordResponses(): Promise<ResponseSeen[]> {
    const seen: ResponseSeen[] = [];
    this.#browser.on('Network.responseReceived', this.#sessionId, (params) => {
      const res = params['response'] as { url: string; protocol?: string; headers?: Record<string, string> };
      const url = new URL(res.url);
      const altSvc = Object.entries(res.headers ?? {}).find(([k]) => k.toLowerCase() === 'alt-svc')?.[1] ?? null;
      seen.push({ path: url.pathname + url.search, protocol: res.protocol ?? '', altSvc });
    });
    await this.#browser.send('Network.enable', {}, this.#sessionId);
    return seen;
  }

  /** Navigates and resolves at the page's load event; rejects on a navigation error or after `timeoutMs`. */
  async navigate(url: string, timeoutMs = 15_000): Promise<void> {
    const loaded = this.#browser.nextEvent('Page.loadEventFired', this.#sessionId, timeoutMs);
    loaded.catch(() => {}); // observed below; a failed navigate must not leave it unhandled
    const res = (await this.#browser.send('Page.navigate', { url }, this.#sessionId, timeoutMs)) as { errorText?: string };
    if (res.errorText) throw new Error(`navigation to ${url} failed: ${res.errorText}`);
    await loaded;
  }

  /** Evaluates `expression` in the page, awaiting a promise result; returns it as JSON. */
  async evaluate<T>(expression: string, timeoutMs = 15_000): Promise<T> {
    const res = (await this.#browser.send(
      'Runtime.evaluate',
      { expression, awaitPromise: true, returnByValue: true },
      this.#sessionId,
      timeoutMs,
    )) as { result?: { value?: unknown }; exceptionDetails?: { text?: string; exception?: { description?: string } } };
    if (res.exceptionDetails) {
      throw new Error(`page threw: ${res.exceptionDetails.exception?.description ?? res.exceptionDetails.text ?? 'unknown'}`);
    }
    return res.result?.value as T;
  }
}
