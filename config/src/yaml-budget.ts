/**
 * What a parsed YAML document would cost once materialised, measured on its node tree before
 * `toJS` runs: alias count, expanded size (estimated JSON bytes without whitespace) and expanded
 * nesting depth. Each node is visited once; an alias costs what its anchored node costs, looked
 * up in a memo, so a billion-laughs document is measured in time linear in its text.
 *
 * Also refuses YAML the config format does not use: tags other than the core schema's (custom
 * `!tags`, `!!binary`, `!!timestamp`, `!!set` … would materialise as non-JSON values), non-scalar
 * mapping keys (they would be stringified, expansion included) and YAML versions other than
 * 1.2 (a `%YAML 1.1` document changes booleans and turns `<<` into merge keys). Merge keys are
 * therefore not supported: `<<` is an ordinary key, which the schema refuses as unknown.
 */
import { type Document, isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { MAX_NESTING_DEPTH, MAX_YAML_ALIASES, MAX_YAML_EXPANDED_BYTES } from './limits.ts';
import { pointerOf } from './pointer.ts';
import type { ConfigIssue } from './types.ts';

const CORE_TAGS: ReadonlySet<string> = new Set(['str', 'int', 'float', 'bool', 'null', 'map', 'seq'].map((t) => `tag:yaml.org,2002:${t}`));

interface Measure {
  /** Estimated JSON bytes once expanded. */
  readonly size: number;
  /** Containers on the deepest path, itself included. */
  readonly depth: number;
}

class Stop {
  readonly issue: ConfigIssue;
  constructor(issue: ConfigIssue) {
    this.issue = issue;
  }
}

export function yamlDocumentIssue(doc: Document): ConfigIssue | null {
  const version = doc.directives?.yaml.version ?? '1.2';
  if (version !== '1.2') {
    return { pointer: '', code: 'config.yaml_unsupported', message: `YAML ${short(version)} documents are not accepted: only YAML 1.2 (core schema)` };
  }
  try {
    new Walker().node(doc.contents, 0);
    return null;
  } catch (err) {
    if (err instanceof Stop) return err.issue;
    throw err;
  }
}

class Walker {
  /** Anchor name → its most recent node so far, in document order. */
  readonly #anchors = new Map<string, unknown>();
  /** Measures of finished anchored nodes. */
  readonly #memo = new Map<unknown, Measure>();
  /** Anchored nodes being walked: an alias to one of them is a cycle. */
  readonly #open = new Set<unknown>();
  readonly #path: string[] = [];
  #aliases = 0;

  /** `depth`: containers enclosing `n`. Recursion is bounded by MAX_NESTING_DEPTH. */
  node(n: unknown, depth: number): Measure {
    if (n === null || n === undefined) return { size: 4, depth: 0 };
    if (isAlias(n)) return this.#alias(n.source, depth);
    const { tag, anchor } = n as { tag?: string; anchor?: string };
    if (tag !== undefined && !CORE_TAGS.has(tag)) {
      this.#stop(pointerOf(this.#path), 'config.yaml_tag', `YAML tag ${short(tag)} is not allowed: only the core schema's (str, int, float, bool, null, map, seq)`);
    }
    if (anchor) {
      this.#anchors.set(anchor, n);
      this.#open.add(n);
    }
    const m = this.#measure(n, depth);
    if (anchor) {
      this.#open.delete(n);
      this.#memo.set(n, m);
    }
    return m;
  }

  #measure(n: unknown, depth: number): Measure {
    if (isScalar(n)) return { size: scalarSize(n.value), depth: 0 };
    if (!isMap(n) && !isSeq(n)) return this.#stop(pointerOf(this.#path), 'config.yaml_unsupported', 'unsupported YAML node');
    if (depth + 1 > MAX_NESTING_DEPTH) this.#tooDeep();
    let size = 2;
    let height = 0;
    const items = n.items as unknown[];
    for (let i = 0; i < items.length; i++) {
      const item = items[i];
      let m: Measure;
      if (isMap(n) && isPair(item)) {
        if (!isScalar(item.key)) {
          this.#stop(pointerOf(this.#path), 'config.yaml_unsupported', 'mapping keys must be scalars (no collections, aliases or null keys)');
        }
        const key = this.node(item.key, depth + 1);
        this.#path.push(String(item.key.value));
        m = this.node(item.value, depth + 1);
        this.#path.pop();
        size += key.size + 1;
      } else {
        this.#path.push(String(i));
        m = this.node(item, depth + 1);
        this.#path.pop();
      }
      size += m.size + (i > 0 ? 1 : 0);
      if (m.depth > height) height = m.depth;
      if (size > MAX_YAML_EXPANDED_BYTES) this.#tooLarge();
    }
    return { size, depth: height + 1 };
  }

  #alias(name: string, depth: number): Measure {
    if (++this.#aliases > MAX_YAML_ALIASES) this.#stop('', 'config.alias_limit', `more than ${MAX_YAML_ALIASES} YAML aliases`);
    const target = this.#anchors.get(name);
    if (target === undefined) this.#stop('', 'config.syntax', `invalid YAML: alias *${short(name)} has no anchor before it`);
    if (this.#open.has(target)) this.#stop('', 'config.alias_limit', `alias *${short(name)} refers to a node that contains it`);
    const m = this.#memo.get(target) as Measure;
    if (depth + m.depth > MAX_NESTING_DEPTH) this.#tooDeep();
    return m;
  }

  #tooDeep(): never {
    return this.#stop('', 'config.too_deep', `nesting (aliases resolved) is deeper than ${MAX_NESTING_DEPTH} levels`);
  }

  #tooLarge(): never {
    const code = this.#aliases > 0 ? 'config.alias_limit' : 'config.too_large';
    return this.#stop('', code, `the document expands (aliases resolved) to more than ${MAX_YAML_EXPANDED_BYTES} bytes`);
  }

  #stop(pointer: string, code: string, message: string): never {
    throw new Stop({ pointer, code, message });
  }
}

function scalarSize(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value).length;
  if (value === null || value === undefined) return 4;
  return String(value).length + 2;
}

function short(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}
