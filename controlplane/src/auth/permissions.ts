/** Permissions a token can carry; `admin` implies every other one. */
export const PERMISSIONS = [
  'config:read',
  'config:write',
  'config:activate',
  'config:rollback',
  'fleet:read',
  'audit:read',
  'admin',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

/** Who made a request: the token's name (recorded as actor), what it may do and where. */
export interface Principal {
  readonly name: string;
  readonly permissions: ReadonlySet<Permission>;
  /** Scope names, or '*' for every scope. */
  readonly scopes: ReadonlySet<string>;
}

export function hasPermission(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has('admin') || principal.permissions.has(permission);
}

export function canAccessScope(principal: Principal, scope: string): boolean {
  return principal.scopes.has('*') || principal.scopes.has(scope);
}
