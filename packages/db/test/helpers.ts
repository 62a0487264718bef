import { afterAll, inject } from 'vitest'
import { createScratchDatabase, type ScratchDatabase } from '../src/index.js'

/** A database of this test file's own, dropped after the file. */
export async function freshDatabase(purpose: string): Promise<ScratchDatabase> {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_${purpose}` })
  afterAll(() => database.drop())
  return database
}
