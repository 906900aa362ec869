/**
 * Fuzz: Host / `:authority` validation (requestHostProblem) and normalisation
 * (normalizeRequestHost) on generated values: labels, IPv4 look-alikes (short, octal, hex),
 * IPv6 literals bracketed or not, zone ids, ports in and out of range, userinfo, commas,
 * whitespace, control bytes, non-ASCII, trailing dots. Properties:
 *   - never throws, bounded time per input;
 *   - accepted ⇒ the normalised host is non-empty, lowercase, has no port, no brackets, no
 *     trailing dot, and is a DNS-style reg-name, a strict dotted-quad IPv4 or an IPv6 address;
 *   - accepted ⇒ a WHATWG URL parser (Node's URL, what many origins and clients use) reads the
 *     same host from `http://<value>/` (same name, same address), so Spooky's routing host and
 *     the origin's idea of the host cannot differ.
 */
import assert from 'node:assert/strict';
import { isIPv4, isIPv6 } from 'node:net';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cpuMs, fuzzRuns, PER_INPUT_CPU_MS } from '../testing/fuzz-runs.ts';
import { normalizeRequestHost, requestHostProblem } from './request-host.ts';

const REG_NAME = /^[a-z0-9_-]{1,63}(?:\.[a-z0-9_-]{1,63})*$/;

const PIECES = [
  'a', 'B', 'example', 'com', 'xn--caf-dma', 'x_y', '-', '0', '1', '127', '255', '256', '010', '0x7f', '0X1', '4294967295',
  '.', '..', ':', ':443', ':0', ':65535', ':65536', ':080', ':', '::', '::1', 'db8', '2001:db8::1', 'ffff:', '%25eth0', '%',
  '[', ']', '[::1]', '[2001:DB8::1]', '[v1.x]', '@', 'user@', ',', ', ', ' ', '\t', '\u0000', '\r\n', 'é', '\u3002', '/', '\\', '?', '#',
];

const hostValue = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 0, maxLength: 8 }).map((p) => p.join('')) },
  { weight: 3, arbitrary: fc.array(fc.constantFrom(...PIECES), { minLength: 1, maxLength: 6 }).map((p) => p.join('.')) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
  { weight: 1, arbitrary: fc.constantFrom('a'.repeat(64), `${'a.'.repeat(130)}a`, 'a'.repeat(400)) },
);

/** The address or name a WHATWG URL parser reads from `http://<raw>/`, or null when it refuses. */
function whatwgHost(raw: string): string | null {
  try {
    const hostname = new URL(`http://${raw}/`).hostname;
    return hostname.startsWith('[') ? hostname : hostname.replace(/\.$/, '');
  } catch {
    return null;
  }
}

let inputs = 0;
let accepted = 0;
let failures = 0;

describe('fuzz request-host', () => {
  test('accepted ⇒ normalised host is a lowercase reg-name / IPv4 / IPv6 that a URL parser reads the same', () => {
    try {
      fc.assert(
        fc.property(hostValue, (raw) => {
          inputs++;
          const started = cpuMs();
          const problem = requestHostProblem(raw);
          const host = normalizeRequestHost(raw);
          assert.ok(cpuMs() - started < PER_INPUT_CPU_MS, 'bounded time');
          if (problem !== null) return;
          accepted++;
          assert.ok(host !== null && host.length > 0, 'non-empty');
          assert.equal(host, host.toLowerCase(), 'lowercase');
          assert.ok(!host.endsWith('.'), 'no trailing dot');
          assert.ok(!host.includes('[') && !host.includes(']'), 'no brackets');
          const ip6 = isIPv6(host);
          assert.ok(ip6 || !host.includes(':'), 'no port');
          assert.ok(ip6 || isIPv4(host) || (REG_NAME.test(host) && host.length <= 253), `grammar: ${JSON.stringify(host)}`);
          const parsed = whatwgHost(raw);
          assert.notEqual(parsed, null, `URL refuses ${JSON.stringify(raw)}`);
          if (ip6) {
            assert.equal(parsed, new URL(`http://[${host}]/`).hostname, `URL reads another address from ${JSON.stringify(raw)}`);
          } else {
            assert.equal(parsed, host, `URL reads another host from ${JSON.stringify(raw)}`);
          }
        }),
        { numRuns: fuzzRuns(50_000) },
      );
    } catch (err) {
      failures++;
      throw err;
    }
  });

  test('issue 7 regressions: malformed hosts are refused', () => {
    for (const raw of ['', 'user@h', 'a, b', 'a b', 'h:0', 'h:65536', 'h:', '127.1', '0x7f.0.0.1', '2001:db8::1', '[fe80::1%25eth0]', 'a\u0000b', '.']) {
      assert.notEqual(requestHostProblem(raw), null, JSON.stringify(raw));
    }
  });

  test('summary', (t) => {
    t.diagnostic(`request-host: ${accepted} of ${inputs} inputs accepted`);
    const line = `fuzz request-host: ${inputs} inputs, ${failures} failures`;
    t.diagnostic(line);
    console.log(line);
  });
});
