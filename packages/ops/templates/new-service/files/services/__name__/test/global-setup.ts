// One Postgres for the run, and a template database holding __name__'s roles and
// schema, migrated as its owner role: each test file clones it.
import { discoverServices, requireService } from '@app/migrations/authoring'
import { prepareServiceTemplate, testRunSetup } from '@app/testkit'

export default testRunSetup({
  prepare: async ({ adminUrl, prefix }) => ({
    template: await prepareServiceTemplate({
      adminUrl,
      prefix,
      services: [requireService('__name__', discoverServices())],
    }),
  }),
})
