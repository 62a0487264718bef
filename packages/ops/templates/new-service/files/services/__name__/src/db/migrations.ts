import { findMigrationsFolder } from '@app/migrations'

/** Which schema __name__'s migrations own, and where they are (found from src/, dist/ or the bundle alike). */
export const migrations = {
  schema: '__name__',
  folder: findMigrationsFolder(import.meta.url),
} as const
