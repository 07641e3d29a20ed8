/**
 * The authenticated caller of a back-office request and the visibility decisions that follow from it.
 * The glossary: a merchant-safe view is what a merchant's own staff may see (no provider names, SUB
 * MIDs, internal errors or statuses, raw callbacks); an internal view adds those for platform users
 * holding the permission. Pure: no I/O.
 */
import type { Permission, UserKind } from './permissions.js';

export interface Principal {
  userId: string;
  email: string;
  kind: UserKind;
  /** The merchant a merchant user is bound to; null for platform users. */
  merchantId: string | null;
  roles: readonly string[];
  permissions: ReadonlySet<Permission>;
  /** Public id of the access token used (never the token). */
  tokenId: string;
}

export function can(principal: Principal, permission: Permission): boolean {
  return principal.permissions.has(permission);
}

/** The view a principal gets of data guarded by an internal permission: internal only for platform users holding it. */
export function viewFor(principal: Principal, internalPermission: Permission): 'internal' | 'merchant' {
  return principal.kind === 'platform' && can(principal, internalPermission) ? 'internal' : 'merchant';
}

/** The merchant a principal is confined to (every query is scoped by it), or null for platform users. */
export function merchantScope(principal: Principal): string | null {
  return principal.kind === 'merchant' ? principal.merchantId : null;
}
