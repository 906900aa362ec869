/**
 * Semantic, field-level diff of two configs, grouped by entity. Used by the control plane for
 * validate (`diff` against the active generation), activate / rollback (`changes`) and
 * `GET /v1/scopes/{scope}/diff`.
 *
 * It walks the canonical documents (defaults filled, nulls left out) generically, so fields the
 * schema gains later are diffed without touching this file:
 *   - objects are compared key by key (a key on one side only → `add` / `remove` at that key);
 *   - arrays whose elements are all objects with a unique `id`, else `name`, else
 *     `address` + `port`, are matched by that key: reordering them is no change (backends,
 *     listeners, matchers); other arrays are compared as whole values;
 *   - whole entities that appear or disappear are one `add` / `remove` carrying the entity.
 * Secret-looking values are replaced by `"[redacted]"` (see `redactSecrets`).
 */
import { canonicalJson } from './canonical.ts';
import { type ChangeEntity, entityOf, isCollection } from './diff-entities.ts';
import { escapePointer } from './pointer.ts';
import { redactSecrets } from './redact-secrets.ts';
import type { Config } from './types.ts';

export type { ChangeEntity };
export type ChangeOp = 'add' | 'remove' | 'change';

/**
 * One difference. `op` says what happened at `path`, a JSON Pointer (RFC 6901) into the
 * canonical `to` document for `add` and `change`, into the canonical `from` document for
 * `remove` (array positions differ between the two when keyed elements moved).
 * `before` is null for `add`, `after` is null for `remove`; both are redacted JSON values.
 * `id`: listener `address:port`, upstream / route = upstream name, backend
 * `<upstream>/<backend id>`, policy / global = the top-level key (`performance`, `log`, …).
 */
export interface Change {
  readonly entity: ChangeEntity;
  readonly id: string;
  readonly op: ChangeOp;
  readonly path: string;
  readonly before: unknown;
  readonly after: unknown;
}

/**
 * Changes turning `from` into `to`; [] when they mean the same (whatever their key order or
 * backend order). `null` stands for "no config" (nothing active yet): every entity of the
 * other side is then one `add` (or `remove`). Deterministic order: by entity kind
 * (listener, upstream, route, backend, policy, global), then id, then document order.
 */
export function diff(from: Config | null, to: Config | null): Change[] {
  return diffDocuments(from === null ? {} : canonicalDocument(from), to === null ? {} : canonicalDocument(to));
}

/** The same diff over already-canonical documents (e.g. stored generation payloads). */
export function diffDocuments(from: unknown, to: unknown): Change[] {
  const out: Change[] = [];
  walk(from, to, { pointer: '', logical: [], field: '', parent: '' }, out);
  return sortChanges(out);
}

function canonicalDocument(config: Config): unknown {
  return JSON.parse(canonicalJson(config));
}

/**
 * Where the walk is: JSON Pointer, the path with array elements named by their key, the nearest
 * object key and the one above it (redaction depends on both).
 */
interface Site {
  readonly pointer: string;
  readonly logical: readonly string[];
  readonly field: string;
  readonly parent: string;
}

type Obj = Record<string, unknown>;

function isObject(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function walk(a: unknown, b: unknown, site: Site, out: Change[]): void {
  if (a === undefined && b === undefined) return;
  if (a === undefined || b === undefined) {
    const present = a ?? b;
    if (isCollection(site.logical) && (isObject(present) || Array.isArray(present))) {
      const empty = Array.isArray(present) ? [] : {};
      walk(a ?? empty, b ?? empty, site, out);
      return;
    }
    emit(out, site, a === undefined ? 'add' : 'remove', a, b);
    return;
  }
  if (isObject(a) && isObject(b)) {
    for (const key of unionKeys(a, b)) {
      const child: Site = {
        pointer: `${site.pointer}/${escapePointer(key)}`,
        logical: [...site.logical, key],
        field: key,
        parent: site.field,
      };
      walk(a[key], b[key], child, out);
    }
    return;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    const keyOf = elementKey(a, b);
    if (keyOf) walkKeyed(a as Obj[], b as Obj[], keyOf, site, out);
    else if (!deepEqual(a, b)) emit(out, site, 'change', a, b);
    return;
  }
  if (!deepEqual(a, b)) emit(out, site, 'change', a, b);
}

function walkKeyed(a: Obj[], b: Obj[], keyOf: (o: Obj) => string, site: Site, out: Change[]): void {
  const fromByKey = new Map<string, Obj>();
  for (const item of a) fromByKey.set(keyOf(item), item);
  const toKeys = new Set<string>();
  b.forEach((item, j) => {
    const key = keyOf(item);
    toKeys.add(key);
    walk(fromByKey.get(key), item, elementSite(site, j, key), out);
  });
  a.forEach((item, i) => {
    const key = keyOf(item);
    if (!toKeys.has(key)) walk(item, undefined, elementSite(site, i, key), out);
  });
}

function elementSite(site: Site, index: number, key: string): Site {
  return { pointer: `${site.pointer}/${index}`, logical: [...site.logical, key], field: site.field, parent: site.parent };
}

function unionKeys(a: Obj, b: Obj): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].sort(compareStrings);
}

const KEY_CANDIDATES: ReadonlyArray<(o: Obj) => string | null> = [
  (o) => (typeof o['id'] === 'string' ? o['id'] : null),
  (o) => (typeof o['name'] === 'string' ? o['name'] : null),
  (o) => (typeof o['address'] === 'string' && typeof o['port'] === 'number' ? `${o['address']}:${o['port']}` : null),
];

/** The key matching elements of `a` and `b`, or null when they must be compared as values. */
function elementKey(a: unknown[], b: unknown[]): ((o: Obj) => string) | null {
  if (a.length + b.length === 0) return null;
  if (!a.every(isObject) || !b.every(isObject)) return null;
  for (const candidate of KEY_CANDIDATES) {
    if (uniqueKeys(a, candidate) && uniqueKeys(b, candidate)) return (o) => candidate(o) as string;
  }
  return null;
}

function uniqueKeys(items: Obj[], keyOf: (o: Obj) => string | null): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const key = keyOf(item);
    if (key === null || seen.has(key)) return false;
    seen.add(key);
  }
  return true;
}

function emit(out: Change[], site: Site, op: ChangeOp, before: unknown, after: unknown): void {
  const { entity, id } = entityOf(site.logical);
  out.push({
    entity,
    id,
    op,
    path: site.pointer,
    before: before === undefined ? null : redactSecrets(before, site.field, site.parent),
    after: after === undefined ? null : redactSecrets(after, site.field, site.parent),
  });
}

/** Structural equality of JSON values (object key order ignored, array order significant). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  }
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => deepEqual(a[k], b[k]));
  }
  return false;
}

const ENTITY_ORDER: readonly ChangeEntity[] = ['listener', 'upstream', 'route', 'backend', 'policy', 'global'];

function sortChanges(changes: Change[]): Change[] {
  // Array.prototype.sort is stable: document order is kept within one entity.
  return changes.sort(
    (x, y) => ENTITY_ORDER.indexOf(x.entity) - ENTITY_ORDER.indexOf(y.entity) || compareStrings(x.id, y.id),
  );
}

/** Code-unit order, independent of locale. */
function compareStrings(x: string, y: string): number {
  return x < y ? -1 : x > y ? 1 : 0;
}
