/**
 * What deploy/'s alert rules and dashboard may name, and what they do name: the metric families a
 * plane's /metrics really serves (parsed from the Prometheus text format), and the metric names
 * and label names a PromQL expression uses. Used by test/src/deploy-observability.test.ts so that a rule
 * or panel naming a metric no plane exports (a typo, a renamed family) fails a test instead of
 * silently matching nothing.
 */

/** One family of a /metrics answer: its TYPE and the label names seen on its samples. */
export interface Family {
  readonly type: string;
  readonly labels: Set<string>;
  /** Series names it contributes: the family name, or its _bucket/_sum/_count (histogram, summary). */
  readonly series: readonly string[];
}

/** Families of a Prometheus text-format answer, by family name. */
export function parseExposition(text: string): Map<string, Family> {
  const families = new Map<string, Family>();
  const bySeries = new Map<string, Family>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\w+)$/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      const series = kind === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : kind === 'summary' ? [name, `${name}_sum`, `${name}_count`] : [name];
      const family: Family = { type: kind, labels: new Set(), series };
      families.set(name, family);
      for (const s of series) bySeries.set(s, family);
      continue;
    }
    if (line.startsWith('#') || line.trim() === '') continue;
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s/.exec(line);
    if (!sample) continue;
    const family = bySeries.get(sample[1] as string);
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) family?.labels.add(m[1] as string);
  }
  return families;
}

/** A metric selector in an expression: `name{label="v", …}`. */
export interface Selector {
  readonly metric: string;
  readonly matcherLabels: readonly string[];
}

export interface ExpressionNames {
  readonly selectors: readonly Selector[];
  /** Label names of `by (…)`, `without (…)`, `on (…)`, `ignoring (…)`, `group_left/right (…)`. */
  readonly groupingLabels: readonly string[];
}

const GROUPING = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right']);
const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan', 'atan2']);
/** PromQL functions and aggregations (an identifier followed by `(` is one too). */
const FUNCTIONS = new Set([
  'sum', 'min', 'max', 'avg', 'count', 'stddev', 'stdvar', 'topk', 'bottomk', 'quantile', 'count_values', 'group',
  'rate', 'irate', 'increase', 'delta', 'idelta', 'deriv', 'changes', 'resets', 'histogram_quantile', 'abs', 'absent',
  'absent_over_time', 'clamp_min', 'clamp_max', 'label_replace', 'label_join', 'vector', 'scalar', 'time', 'timestamp',
  'max_over_time', 'min_over_time', 'avg_over_time', 'sum_over_time', 'count_over_time', 'last_over_time', 'sort', 'sort_desc',
]);

/**
 * The metric names and label names `expr` uses. Strings, range and subquery brackets, numbers,
 * durations and Grafana `$variables` are skipped; identifiers that are functions, aggregations
 * or keywords are not metrics. Throws on an unbalanced bracket or an unterminated string.
 */
export function promqlNames(expr: string): ExpressionNames {
  const selectors: Selector[] = [];
  const groupingLabels: string[] = [];
  let i = 0;
  const skipSpace = (): void => {
    while (i < expr.length && /\s/.test(expr[i] as string)) i++;
  };
  const readString = (): void => {
    const quote = expr[i];
    i++;
    while (i < expr.length && expr[i] !== quote) i += expr[i] === '\\' ? 2 : 1;
    if (i >= expr.length) throw new Error(`unterminated string in ${expr}`);
    i++;
  };
  const readIdent = (): string => {
    const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(expr.slice(i));
    i += m?.[0].length ?? 0;
    return m?.[0] ?? '';
  };
  const readLabelList = (into: string[]): void => {
    // at '(' : comma-separated label names
    const close = expr.indexOf(')', i);
    if (close < 0) throw new Error(`unbalanced ( in ${expr}`);
    for (const name of expr.slice(i + 1, close).split(',')) if (name.trim() !== '') into.push(name.trim());
    i = close + 1;
  };
  const readMatchers = (): string[] => {
    // at '{' : label op "value", …
    const labels: string[] = [];
    i++;
    for (;;) {
      skipSpace();
      if (expr[i] === '}') {
        i++;
        return labels;
      }
      if (expr[i] === ',') {
        i++;
        continue;
      }
      const label = readIdent();
      if (label === '') throw new Error(`bad label matcher at ${i} in ${expr}`);
      labels.push(label);
      skipSpace();
      const op = /^(=~|!~|!=|=)/.exec(expr.slice(i));
      if (!op) throw new Error(`bad matcher operator at ${i} in ${expr}`);
      i += op[0].length;
      skipSpace();
      if (expr[i] !== '"' && expr[i] !== "'") throw new Error(`matcher value not a string at ${i} in ${expr}`);
      readString();
    }
  };
  while (i < expr.length) {
    const c = expr[i] as string;
    if (/\s/.test(c) || '()+-*/%^,=!<>'.includes(c)) {
      i++;
    } else if (c === '"' || c === "'") {
      readString();
    } else if (c === '[') {
      const close = expr.indexOf(']', i);
      if (close < 0) throw new Error(`unbalanced [ in ${expr}`);
      i = close + 1;
    } else if (c === '$') {
      i++;
      readIdent();
    } else if (/[0-9.]/.test(c)) {
      i += /^[0-9.eE]+[a-z]*/.exec(expr.slice(i))?.[0].length ?? 1;
    } else if (c === '{') {
      selectors.push({ metric: '', matcherLabels: readMatchers() });
    } else if (/[a-zA-Z_:]/.test(c)) {
      const ident = readIdent();
      skipSpace();
      if (GROUPING.has(ident)) {
        if (expr[i] === '(') readLabelList(groupingLabels);
      } else if (KEYWORDS.has(ident) || FUNCTIONS.has(ident) || expr[i] === '(') {
        // not a metric
      } else {
        selectors.push({ metric: ident, matcherLabels: expr[i] === '{' ? readMatchers() : [] });
      }
    } else {
      throw new Error(`unexpected ${JSON.stringify(c)} at ${i} in ${expr}`);
    }
  }
  return { selectors, groupingLabels };
}
