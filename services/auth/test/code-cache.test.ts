// The built service (node dist/server.js, as make run and the image start it) starts
// from the code cache its build trained (@app/service's code-cache.ts), and says so
// in its ready line: a build that lost its training start shows here, not only as a
// slower start in the bench.
import { generateKeyPairSync } from 'node:crypto'
import { createScratchDatabase } from '@app/db'
import { bootstrapServices, discoverServices, ownerUrl, runtimeUrl } from '@app/migrations/authoring'
import { killLeftovers, startReadyService } from '@app/testkit'
import { afterAll, expect, inject, test } from 'vitest'

const auth = discoverServices().find((s) => s.name === 'auth')!

afterAll(() => killLeftovers())

test('auth starts from the code cache its build trained', async () => {
  const run = inject('testRun')
  const database = await createScratchDatabase(run.adminUrl, { prefix: `${run.prefix}_auth_code_cache` })
  try {
    await bootstrapServices(database.url, [auth], {})
    const service = await startReadyService({
      dir: auth.dir,
      env: {
        DATABASE_URL: runtimeUrl(database.url, auth, {}),
        MIGRATION_DATABASE_URL: ownerUrl(database.url, auth, {}),
        LOG_LEVEL: 'info',
        AUTH_JWT_PRIVATE_KEY: generateKeyPairSync('ed25519')
          .privateKey.export({ format: 'pem', type: 'pkcs8' })
          .toString(),
      },
    })
    try {
      // /readyz may answer 200 before the ready line has come through the pipe.
      await expect
        .poll(() => service.logEntries().find((entry) => String(entry.msg).startsWith('auth: ready on')), {
          timeout: 10_000,
        })
        .toMatchObject({ codeCache: 'used' })
    } finally {
      await service.stop()
    }
  } finally {
    await database.drop()
  }
})
