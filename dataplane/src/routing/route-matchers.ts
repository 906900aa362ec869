/**
 * Route matchers compiled once per generation: headers, query parameters, cookies. All of a
 * route's matchers must hold. One matcher tests the values of one name (route-attributes):
 *  - `present: true` holds when the name has a value, `present: false` when it has none;
 *  - `exact`, `prefix`, `regex` hold when ANY value of the name matches (absent → false);
 *  - `regex` is a whole-value match, compiled as `^(?:re)$` with the `u` flag (parseConfig
 *    already bounded its cost with checkRegexCost).
 * Header names are lowercase in the config and in the request; query and cookie names are
 * case-sensitive.
 */
import type { ConfigIssue, Matcher, Route } from '@spooky/config';
import type { AttributeValues, RouteAttributes } from './request-attributes.ts';

interface CompiledMatcher {
  readonly name: string;
  /** true / false for `present`; null for value tests. */
  readonly present: boolean | null;
  readonly test: (value: string) => boolean;
}

export interface RouteMatchers {
  /** Total matcher count (> 0). */
  readonly count: number;
  holds(attrs: RouteAttributes): boolean;
}

/**
 * The route's matchers, or null when it has none (unconstrained). A regex that does not
 * compile (cannot happen for a config from parseConfig) becomes an issue at `pointer`.
 */
export function compileRouteMatchers(route: Route, pointer: string, issues: ConfigIssue[]): RouteMatchers | null {
  const headers = (route.headers ?? []).map((m, i) => compileMatcher(m, `${pointer}/headers/${i}`, issues));
  const query = (route.query ?? []).map((m, i) => compileMatcher(m, `${pointer}/query/${i}`, issues));
  const cookies = (route.cookies ?? []).map((m, i) => compileMatcher(m, `${pointer}/cookies/${i}`, issues));
  const count = headers.length + query.length + cookies.length;
  if (count === 0) return null;
  return {
    count,
    holds(attrs) {
      for (const m of headers) if (!holds(m, attrs.header(m.name))) return false;
      for (const m of query) if (!holds(m, attrs.query(m.name))) return false;
      for (const m of cookies) if (!holds(m, attrs.cookie(m.name))) return false;
      return true;
    },
  };
}

function holds(m: CompiledMatcher, values: AttributeValues): boolean {
  const present = values !== undefined && values.length > 0;
  if (m.present !== null) return present === m.present;
  if (!present) return false;
  for (const v of values) if (m.test(v)) return true;
  return false;
}

function compileMatcher(m: Matcher, pointer: string, issues: ConfigIssue[]): CompiledMatcher {
  const name = m.name;
  if (m.present !== undefined) return { name, present: m.present, test: () => false };
  if (m.exact !== undefined) {
    const exact = m.exact;
    return { name, present: null, test: (v) => v === exact };
  }
  if (m.prefix !== undefined) {
    const prefix = m.prefix;
    return { name, present: null, test: (v) => v.startsWith(prefix) };
  }
  if (m.regex !== undefined) {
    try {
      const re = new RegExp(`^(?:${m.regex})$`, 'u');
      return { name, present: null, test: (v) => re.test(v) };
    } catch {
      issues.push({ pointer: `${pointer}/regex`, code: 'route.matcher.regex_invalid', message: 'regex does not compile' });
    }
  } else {
    issues.push({ pointer, code: 'route.matcher.kind', message: 'a matcher needs exactly one of exact, prefix, present, regex' });
  }
  return { name, present: null, test: () => false };
}
