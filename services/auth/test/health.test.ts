import { expect, test } from 'vitest'
import { buildTestApp } from './helper.js'

test('/readyz: the database is reachable as the auth role and every migration is applied', async () => {
  const { app } = await buildTestApp()
  const res = await app.inject('/readyz')
  expect(res.json()).toEqual({ status: 'ready', checks: { database: 'ok', migrations: 'ok' } })
  expect(res.statusCode).toBe(200)
})
