import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    globalSetup: ['./test/global-setup.ts'],
    include: ['test/**/*.test.ts'],
    // Each test runs real `make` targets (a cached turbo build first) on 2 shared cores.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
