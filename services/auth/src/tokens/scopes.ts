// What a role may do, as the scopes its tokens carry (RFC 9068's `scope` claim).
// Services check scopes, never roles: a new permission is a scope here, granted to
// the roles that need it, and checked by the service that owns the operation
// (requireScope from @app/service). A role change reaches a user's tokens when the
// user logs in again.

/** Every scope auth grants, with what it allows (the metadata's scopes_supported, the docs' Authorize dialog). */
export const SCOPES = {
  'users:read': "list every user (GET /auth/users) and read any user's full record",
  'billing:plans:write': "create and retire billing's plans",
} as const satisfies Record<string, string>

export type Scope = keyof typeof SCOPES

export const ROLES = ['user', 'admin'] as const
export type Role = (typeof ROLES)[number]

export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  user: [],
  admin: ['users:read', 'billing:plans:write'],
}

/**
 * The scopes a token gets: those the client asked for (OAuth2's space-separated
 * `scope` form field) that the role grants; every scope of the role when it asked
 * for none (absent or blank, as Swagger UI sends it with nothing ticked). A scope
 * the role lacks, or that does not exist, is left out, not an error (RFC 6749 3.3:
 * the server may grant less than requested, and says so in the response's `scope`).
 */
export function grantedScopes(role: Role, requested: string | undefined): Scope[] {
  const ofRole = ROLE_SCOPES[role]
  const asked = (requested ?? '').split(' ').filter(Boolean)
  if (asked.length === 0) return [...ofRole]
  return ofRole.filter((scope) => asked.includes(scope))
}
