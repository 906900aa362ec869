/**
 * Which entity a place in the canonical config document belongs to, for `diff`. Works on the
 * *logical* path (array elements named by their key, e.g. `['upstream', 'api', 'backends',
 * 'b1', 'address']`), so it needs no change when fields are added inside an entity:
 *
 *   /listeners/<address:port>/…          → listener
 *   /upstream/<name>                      → upstream (the whole upstream added / removed)
 *   /upstream/<name>/route/…              → route, id = upstream name
 *   /upstream/<name>/backends/<id>/…      → backend, id = `<name>/<id>`
 *   /upstream/<name>/<anything else>/…    → upstream (load_balancing, health, splits, mirror…)
 *   /version, /log, /observability, /compat → global
 *   any other top-level key               → policy (performance, upstream_tls, resilience…)
 */
/** The kinds of entity a config change belongs to. */
export type ChangeEntity = 'listener' | 'upstream' | 'route' | 'backend' | 'policy' | 'global';

const GLOBAL_KEYS: ReadonlySet<string> = new Set(['version', 'log', 'observability', 'compat']);

export function entityOf(logical: readonly string[]): { entity: ChangeEntity; id: string } {
  const [top = '', second = '', third, fourth] = logical;
  if (top === 'listeners') return { entity: 'listener', id: second };
  if (top === 'upstream') {
    if (third === 'route') return { entity: 'route', id: second };
    if (third === 'backends' && fourth !== undefined) return { entity: 'backend', id: `${second}/${fourth}` };
    return { entity: 'upstream', id: second };
  }
  return { entity: GLOBAL_KEYS.has(top) ? 'global' : 'policy', id: top };
}

/**
 * Containers of entities rather than entities: when one side lacks them they are walked as
 * empty, so each member becomes its own add / remove instead of one change of the container.
 */
export function isCollection(logical: readonly string[]): boolean {
  if (logical.length === 0) return true;
  if (logical.length === 1) return logical[0] === 'listeners' || logical[0] === 'upstream';
  return logical.length === 3 && logical[0] === 'upstream' && logical[2] === 'backends';
}
