import { fileURLToPath } from 'node:url'

/** Where billing's migrations live and which schema they own (src/ and dist/ are both one level down). */
export const migrations = {
  schema: 'billing',
  folder: fileURLToPath(new URL('../../drizzle', import.meta.url)),
} as const
