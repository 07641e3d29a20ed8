/**
 * Who may do what in the back office, as data. A user has a kind (merchant users belong to one
 * merchant, platform users to the platform operator) and roles; roles grant permissions. Merchant users
 * can never hold an internal permission, whatever roles are stored for them: `permissionsOf` drops any
 * permission outside MERCHANT_GRANTABLE for them (defence in depth against a hand-edited row).
 * Pure: no I/O.
 */
export const PERMISSIONS = [
  /** Search transactions and read their merchant-safe detail, timeline and webhook deliveries. */
  'transactions:read',
  /** Internal transaction detail: internal status, attempts (providers, SUB MIDs), routing plan, callbacks, webhook URLs and headers. */
  'transactions:read_internal',
  /** The internal timeline (every entry, internal details included). */
  'timeline:read_internal',
  /** Ask the webhook dispatcher to send a webhook again (to the URL stored with it). */
  'webhooks:resend',
  /** Dead-lettered events of a transaction (read-only; replay stays with ops' CLI). */
  'failed_events:read',
] as const;

export type Permission = (typeof PERMISSIONS)[number];

export type UserKind = 'merchant' | 'platform';

/** Permissions a merchant user may ever hold: never anything internal. */
export const MERCHANT_GRANTABLE: ReadonlySet<Permission> = new Set(['transactions:read', 'webhooks:resend']);

export interface RoleDefinition {
  kind: UserKind;
  description: string;
  permissions: readonly Permission[];
}

export const ROLES = {
  viewer: {
    kind: 'platform',
    description: 'Platform staff who look transactions up: merchant-safe views only',
    permissions: ['transactions:read'],
  },
  support: {
    kind: 'platform',
    description: 'Support agents: internal details and timeline, webhook resends',
    permissions: [
      'transactions:read',
      'transactions:read_internal',
      'timeline:read_internal',
      'webhooks:resend',
    ],
  },
  ops: {
    kind: 'platform',
    description: 'Operations engineers: internal details and timeline, dead-lettered events',
    permissions: [
      'transactions:read',
      'transactions:read_internal',
      'timeline:read_internal',
      'failed_events:read',
    ],
  },
  merchant_user: {
    kind: 'merchant',
    description: "A merchant's staff: their own merchant's transactions, merchant-safe only",
    permissions: ['transactions:read'],
  },
  merchant_developer: {
    kind: 'merchant',
    description: "A merchant's developers: as merchant_user, and may resend their own webhooks",
    permissions: ['transactions:read', 'webhooks:resend'],
  },
} as const satisfies Record<string, RoleDefinition>;

export type RoleName = keyof typeof ROLES;

export const ROLE_NAMES = Object.keys(ROLES) as RoleName[];

export function isRoleName(value: unknown): value is RoleName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(ROLES, value);
}

/** The permissions a user of this kind holds through these roles; unknown roles and roles of the other kind grant nothing. */
export function permissionsOf(kind: UserKind, roles: readonly string[]): ReadonlySet<Permission> {
  const granted = new Set<Permission>();
  for (const role of roles) {
    if (!isRoleName(role)) continue;
    const definition: RoleDefinition = ROLES[role];
    if (definition.kind !== kind) continue;
    for (const permission of definition.permissions) {
      if (kind === 'merchant' && !MERCHANT_GRANTABLE.has(permission)) continue;
      granted.add(permission);
    }
  }
  return granted;
}

/** Why these roles cannot be given to a user of this kind, or null when they can. */
export function roleProblem(kind: UserKind, roles: readonly string[]): string | null {
  if (roles.length === 0) return 'give at least one role';
  for (const role of roles) {
    if (!isRoleName(role)) return `unknown role "${role}"; one of ${ROLE_NAMES.join(', ')}`;
    if (ROLES[role].kind !== kind)
      return `role "${role}" is for ${ROLES[role].kind} users, not ${kind} users`;
  }
  return null;
}
