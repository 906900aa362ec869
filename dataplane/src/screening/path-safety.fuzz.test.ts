/**
 * Fuzz: the path canonicaliser (pathProblem). Generated request targets built from the
 * pieces that make paths ambiguous — percent-encodings (also overlong, double, of separators
 * and dots), dot segments, `;` parameters, Unicode (also NFKC-folding look-alikes), control
 * bytes — plus arbitrary strings. Properties:
 *   - never throws, each input answered within a bound;
 *   - accepted ⇒ the decoded segments contain no `.`/`..`/empty segment/`/`/`\`/control
 *     character, also after stripping `;` parameters and after NFKC folding, and decode as
 *     valid UTF-8;
 *   - accepted ⇒ two typical origins read the same segments as routing did: Node's WHATWG URL
 *     (which resolves `%2e` dot segments and `\`) and a reference normaliser written here
 *     (decode, strip parameters, resolve dot segments) leave the segment list unchanged.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { cpuMs, fuzzRuns, PER_INPUT_CPU_MS } from '../testing/fuzz-runs.ts';
import { pathProblem } from './path-safety.ts';


const PIECES = [
  'a', 'b', 'admin', 'x.y', '~u', '-', '_', '.', '..', '...', '.a', 'a.',
  '%2e', '%2E', '%2e%2e', '.%2e', '%2f', '%2F', '%5c', '%5C', '\\', '//', '/',
  ';', ';x', ';x=1', '..;', '.;', '%3b', '%3B', '..%3b', '%2e%2e;',
  '%25', '%252e', '%252f', '%25%32%65', '%25%32%66', '%2', '%zz', '%',
  '%c0%ae', '%C0%AF', '%e0%80%ae', '%ed%a0%80', '%C3%A9', '%E2%82%AC', '%ff', '%C2%85',
  '%EF%BC%8E', '%EF%BC%8F', '%EF%BC%BC', '%EF%B9%94', '%EF%B9%AA', '%E2%80%A4',
  'é', '\u00a0', '\u2024', '\uff0e', '\uff0f', '\ud800', '\u0000', '%00', '%0a', '%0d', '%7f', '\t', ' ', '\r\n', '#', '?', '?q=..',
];

/** A target: `/` then pieces, sometimes a query. */
const target = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.constantFrom(...PIECES), { maxLength: 12 }).map((parts) => `/${parts.join('')}`) },
  { weight: 3, arbitrary: fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.constant('/')), { maxLength: 16 }).map((parts) => `/${parts.join('/')}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((s) => `/${s}`) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 60 }) },
);

/** C0, DEL or C1 control character. */
function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return true;
  }
  return false;
}

function pathPart(t: string): string {
  const q = t.indexOf('?');
  return q === -1 ? t : t.slice(0, q);
}

/** Segments after the leading `/`, each percent-decoded (accepted paths always decode). */
function decodedSegments(path: string): string[] {
  return path.slice(1).split('/').map((s) => decodeURIComponent(s));
}

/** A reference origin: decode each segment, drop `;` parameters, resolve `.`/`..`. */
function referenceNormalise(path: string): string[] {
  const out: string[] = [];
  const segments = path.slice(1).split('/');
  segments.forEach((raw, i) => {
    const name = decodeURIComponent(raw).split(';')[0] as string;
    if (name === '.') return;
    if (name === '..') {
      out.pop();
      return;
    }
    if (name === '' && i !== segments.length - 1) return;
    out.push(decodeURIComponent(raw));
  });
  return out;
}

function countFailure(run: () => void): void {
  try {
    run();
  } catch (err) {
    failures++;
    throw err;
  }
}

let inputs = 0;
let accepted = 0;
let failures = 0;

describe('fuzz path-safety', () => {
  test('accepted paths have unambiguous segments that origins resolve the same way', () => {
    countFailure(() => fc.assert(
      fc.property(target, (t) => {
        inputs++;
        const started = cpuMs();
        const problem = pathProblem(t);
        assert.ok(cpuMs() - started < PER_INPUT_CPU_MS, 'bounded time');
        if (problem !== null) {
          assert.equal(typeof problem, 'string');
          return;
        }
        accepted++;
        const path = pathPart(t);
        assert.ok(path.startsWith('/'));
        const segments = decodedSegments(path);
        segments.forEach((segment, i) => {
          const last = i === segments.length - 1;
          for (const form of [segment, segment.normalize('NFKC')]) {
            const name = form.split(';')[0] as string;
            assert.ok(name !== '.' && name !== '..', `dot segment in ${JSON.stringify(t)}`);
            assert.ok(last ? form === '' || name !== '' : name !== '', `empty segment in ${JSON.stringify(t)}`);
            assert.ok(!form.includes('/') && !form.includes('\\'), `separator in a segment of ${JSON.stringify(t)}`);
            assert.ok(!hasControl(form), `control character in ${JSON.stringify(t)}`);
          }
        });
        // A typical origin: WHATWG URL resolution keeps the same segments (after decoding).
        const url = new URL(path, 'http://origin.test');
        assert.deepEqual(decodedSegments(url.pathname), segments, `URL resolves ${JSON.stringify(t)} differently`);
        // The reference normaliser keeps them too.
        assert.deepEqual(referenceNormalise(path), segments, `reference normaliser resolves ${JSON.stringify(t)} differently`);
      }),
      { numRuns: fuzzRuns(50_000) },
    ));
  });

  test('issue 7 regression shapes stay refused', () => {
    for (const t of ['/a/..;/b', '/..;/admin', '/a/.;x/b', '/a/%2e%2e;/b', '/a/..%3b/b', '/a/%2e%2e/b', '/a%2fb', '/%252e', '/a\\b', '//a', '/%C0%AE%C0%AE/', '/%00']) {
      assert.notEqual(pathProblem(t), null, t);
    }
  });

  test('summary', (t) => {
    t.diagnostic(`path-safety: ${accepted} of ${inputs} inputs accepted`);
    t.diagnostic(`fuzz path-safety: ${inputs} inputs, ${failures} failures`);
    console.log(`fuzz path-safety: ${inputs} inputs, ${failures} failures`);
  });
});
