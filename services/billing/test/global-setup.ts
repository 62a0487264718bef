// One Postgres for the run, and a template database holding both services' roles
// and schemas, each migrated as its own role: billing's tests run a real auth
// process beside billing, on the same database, as production does.
import { discoverServices } from '@app/migrations/authoring'
import { prepareServiceTemplate, testRunSetup } from '@app/testkit'

export default testRunSetup({
  prepare: async ({ adminUrl, prefix }) => {
    const services = discoverServices()
    const billing = services.find((s) => s.name === 'billing')!
    const auth = services.find((s) => s.name === 'auth')!
    return {
      template: await prepareServiceTemplate({
        adminUrl,
        prefix,
        services: [billing, auth],
        migrateAll: true,
      }),
    }
  },
})
