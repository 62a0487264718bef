// One Postgres for the run, and a template database in which the auth role and
// schema are bootstrapped and auth's migrations applied as that role.
import { discoverServices } from '@app/migrations/authoring'
import { prepareServiceTemplate, testRunSetup } from '@app/testkit'

export default testRunSetup({
  prepare: async ({ adminUrl, prefix }) => {
    const auth = discoverServices().find((s) => s.name === 'auth')!
    return { template: await prepareServiceTemplate({ adminUrl, prefix, services: [auth] }) }
  },
})
