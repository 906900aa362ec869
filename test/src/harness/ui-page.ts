/**
 * A Chromium tab driven like an operator drives the console: navigate, click by selector, type
 * with real key input (Input.insertText into the focused element), wait for a condition in the
 * page (polled, always bounded), set a desktop or phone viewport, and save PNG screenshots.
 * Built on chromium.ts (CDP over a pipe); one instance per tab.
 */
import { writeFileSync } from 'node:fs';
import { type Chromium, Page } from './chromium.ts';

export const DESKTOP = { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false } as const;
export const PHONE = { width: 390, height: 844, deviceScaleFactor: 2, mobile: true } as const;

export class UiPage {
  readonly #browser: Chromium;
  readonly #sessionId: string;
  readonly page: Page;
  /** Uncaught exceptions and browser error log entries (CSP violations among them), as they happen. */
  readonly errors: string[] = [];

  private constructor(browser: Chromium, sessionId: string) {
    this.#browser = browser;
    this.#sessionId = sessionId;
    this.page = new Page(browser, sessionId);
    browser.on('Runtime.exceptionThrown', sessionId, (p) => {
      const d = p['exceptionDetails'] as { text?: string; exception?: { description?: string } } | undefined;
      this.errors.push(`exception: ${d?.exception?.description ?? d?.text ?? 'unknown'}`);
    });
    browser.on('Log.entryAdded', sessionId, (p) => {
      const entry = p['entry'] as { level: string; text: string; url?: string };
      if (entry.level === 'error') this.errors.push(`${entry.text}${entry.url ? ` (${entry.url})` : ''}`);
    });
  }

  /** A new attached tab with the Page, Runtime and Log domains enabled. */
  static async open(browser: Chromium): Promise<UiPage> {
    const { targetId } = (await browser.send('Target.createTarget', { url: 'about:blank' })) as { targetId: string };
    const { sessionId } = (await browser.send('Target.attachToTarget', { targetId, flatten: true })) as { sessionId: string };
    const ui = new UiPage(browser, sessionId);
    await browser.send('Page.enable', {}, sessionId);
    await browser.send('Runtime.enable', {}, sessionId);
    await browser.send('Log.enable', {}, sessionId);
    return ui;
  }

  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    return this.#browser.send(method, params, this.#sessionId);
  }

  evaluate<T>(expression: string): Promise<T> {
    return this.page.evaluate<T>(expression);
  }

  /**
   * Resolves with the (truthy) value of `expression` once it is truthy; polls every 100 ms and
   * rejects after `timeoutMs` with `what` and the page's status line.
   */
  async waitFor<T>(expression: string, what: string, timeoutMs = 15_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.evaluate<T>(expression);
      if (value) return value;
      if (Date.now() > deadline) {
        const status = await this.evaluate<string>(`document.getElementById('status')?.textContent ?? ''`);
        const view = await this.evaluate<string>(`document.getElementById('view')?.innerText.slice(0, 600) ?? ''`);
        throw new Error(`console: ${what} not seen within ${timeoutMs} ms (status: ${status}; view: ${view})`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Clicks the first element matching `selector` (throws when there is none). */
  async click(selector: string): Promise<void> {
    const found = await this.evaluate<boolean>(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); if (!el) return false; el.click(); return true; })()`);
    if (!found) throw new Error(`console: nothing matches ${selector}`);
  }

  /** Focuses `selector` and selects its content, then types `text` as keyboard input (replacing it). */
  async type(selector: string, text: string): Promise<void> {
    await this.evaluate(`(() => { const el = document.querySelector(${JSON.stringify(selector)}); el.focus(); el.select(); })()`);
    await this.send('Input.insertText', { text });
  }

  /** Presses one key (e.g. Enter, Escape) on the focused element. */
  async press(key: 'Enter' | 'Escape'): Promise<void> {
    const code = key === 'Enter' ? 13 : 27;
    const base = { key, code: key, windowsVirtualKeyCode: code, nativeVirtualKeyCode: code };
    await this.send('Input.dispatchKeyEvent', { type: 'keyDown', ...base, ...(key === 'Enter' ? { text: '\r' } : {}) });
    await this.send('Input.dispatchKeyEvent', { type: 'keyUp', ...base });
  }

  async viewport(metrics: typeof DESKTOP | typeof PHONE): Promise<void> {
    await this.send('Emulation.setDeviceMetricsOverride', metrics);
  }

  /** Saves a PNG of the whole page (not just the viewport, at most 6000 px tall) to `file`. */
  async screenshot(file: string): Promise<void> {
    const metrics = (await this.send('Page.getLayoutMetrics')) as { cssContentSize: { width: number; height: number } };
    const { width, height } = metrics.cssContentSize;
    const clip = { x: 0, y: 0, width: Math.ceil(width), height: Math.min(Math.ceil(height), 6000), scale: 1 };
    const { data } = (await this.send('Page.captureScreenshot', { format: 'png', captureBeyondViewport: true, clip })) as { data: string };
    writeFileSync(file, Buffer.from(data, 'base64'));
  }
}
