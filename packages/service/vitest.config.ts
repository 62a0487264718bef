import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // Hang guards, not speed checks: a test that builds an app and migrates a database
    // took over Vitest's default 5 s on a 2-core machine running every package's tests.
    testTimeout: 30_000,
    hookTimeout: 120_000,
  },
})
