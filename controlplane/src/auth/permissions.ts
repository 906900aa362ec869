/** Permissions a token can carry; `admin` implies every other one. */
export const PERMISSIONS = [
  'config:read',
  'config:write',
  'config:activate',
  'config:rollback',
  /** Activate without a staged rollout where the scope's default is staged; promote a rollout stage past its soak. */
  'config:activate-immediate',
  'fleet:read',
  'audit:read',
  /** Write a scope's rollout policy (reading it needs config:read). */
  'rollout:policy',
  'admin',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Who made a request: the token's name (recorded as actor), what it may do and where. */
export interface Principal {
  readonly name: string;
  readonly permissions: ReadonlySet<Permission>;
  /** Scope patterns: a name (`default`), a glob (`prod-*`, `*` matches any run of characters), or `*` (all). */
  readonly scopes: ReadonlySet<string>;
  /** When the token stops being accepted (ISO 8601, UTC); null or absent: never. */
  readonly expiresAt?: string | null;
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has('admin') || principal.permissions.has(permission);
}

export function canAccessScope(principal: Principal, scope: string): boolean {
  for (const pattern of principal.scopes) if (scopeMatches(pattern, scope)) return true;
  return false;
}

/** True when the principal may see every scope (needed for records that name no scope). */
export function canAccessAllScopes(principal: Principal): boolean {
  return principal.scopes.has('*');
}

/** Glob match where `*` is any run of characters (possibly empty) and everything else is literal. */
export function scopeMatches(pattern: string, scope: string): boolean {
  if (!pattern.includes('*')) return pattern === scope;
  const parts = pattern.split('*');
  const first = parts[0] ?? '';
  const last = parts[parts.length - 1] ?? '';
  if (scope.length < first.length + last.length || !scope.startsWith(first) || !scope.endsWith(last)) return false;
  let at = first.length;
  const end = scope.length - last.length;
  for (const middle of parts.slice(1, -1)) {
    const found = scope.indexOf(middle, at);
    if (found < 0 || found + middle.length > end) return false;
    at = found + middle.length;
  }
  return true;
}
