// Roles of command-centre users and what each may do. Routes ask for a permission, never a role,
// so the matrix below is the one place that grants access.

export const ROLES = ['operator', 'supervisor', 'administrator'] as const;
export type Role = (typeof ROLES)[number];

export type Permission =
  /** See live hits and the fleet. */
  | 'hits.view'
  /** Confirm or dismiss a hit. */
  | 'hits.decide'
  /** Search past events. */
  | 'events.search'
  /** Read the audit log. */
  | 'audit.view'
  /** Create users, change roles and passwords, disable users. */
  | 'users.manage'
  /** Change the plate hotlist and the face watchlist. */
  | 'lists.manage';

const OPERATOR: readonly Permission[] = ['hits.view', 'hits.decide'];
const SUPERVISOR: readonly Permission[] = [...OPERATOR, 'events.search', 'audit.view'];
const ADMINISTRATOR: readonly Permission[] = [...SUPERVISOR, 'users.manage', 'lists.manage'];

const PERMISSIONS_BY_ROLE: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  operator: new Set(OPERATOR),
  supervisor: new Set(SUPERVISOR),
  administrator: new Set(ADMINISTRATOR),
};

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

export function roleCan(role: Role, permission: Permission): boolean {
  return PERMISSIONS_BY_ROLE[role].has(permission);
}

/** Returns the permissions of a role, for the page to decide which views to show. */
export function permissionsOf(role: Role): Permission[] {
  return [...PERMISSIONS_BY_ROLE[role]];
}
