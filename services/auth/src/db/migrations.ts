import { findMigrationsFolder } from '@app/migrations'

/** Which schema auth's migrations own, and where they are (found from src/, dist/ or the bundle alike). */
export const migrations = {
  schema: 'auth',
  folder: findMigrationsFolder(import.meta.url),
} as const
