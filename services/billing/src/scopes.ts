// The scopes billing's operations ask for. auth grants them by role (an admin's
// tokens carry billing:plans:write); billing checks the scope, never the role.

/** Creating and retiring plans. */
export const PLANS_WRITE = 'billing:plans:write'

/** Every scope billing checks, with what it allows: the docs' Authorize dialog offers them. */
export const BILLING_SCOPES = { [PLANS_WRITE]: 'Create and retire plans (admins)' }
