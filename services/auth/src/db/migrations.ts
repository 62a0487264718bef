import { fileURLToPath } from 'node:url'

/** Where auth's migrations live and which schema they own (src/ and dist/ are both one level down). */
export const migrations = {
  schema: 'auth',
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
} as const
