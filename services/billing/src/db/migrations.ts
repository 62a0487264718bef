import { findMigrationsFolder } from '@app/migrations'

/** Which schema billing's migrations own, and where they are (found from src/, dist/ or the bundle alike). */
export const migrations = {
  schema: 'billing',
  folder: findMigrationsFolder(import.meta.url),
} as const
