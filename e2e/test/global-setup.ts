// One Postgres for the run, and a template database in which both services' roles
// and schemas exist and both services' migrations were applied as their roles:
// the test clones it and runs the real auth and billing processes on the clone.
import { discoverServices } from '@app/migrations/authoring'
import { prepareServiceTemplate, testRunSetup } from '@app/testkit'

export default testRunSetup({
  prepare: async ({ adminUrl, prefix }) => ({
    template: await prepareServiceTemplate({
      adminUrl,
      prefix: `${prefix}_e2e`,
      services: discoverServices().filter((s) => s.name === 'auth' || s.name === 'billing'),
      migrateAll: true,
    }),
  }),
})
