import { readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { beforeAll, expect, test } from 'vitest'
import { migrate, status } from '../src/index.js'
import { writeMigrationsFolder } from '../src/testing/index.js'
import { freshDatabase, query, schemaExists, tempFolder } from './helpers.js'

let url: string
beforeAll(async () => {
  url = (await freshDatabase('status')).url
})

const steps = [
  { statements: ['CREATE SCHEMA "st";', 'CREATE TABLE "st"."a" (id int);'], down: ['DROP TABLE "st"."a";'] },
  { statements: ['CREATE TABLE "st"."b" (id int);'], down: ['DROP TABLE "st"."b";'] },
  { statements: ['CREATE TABLE "st"."c" (id int);'] },
]

test('on a database that never saw the service: everything pending, nothing written', async () => {
  const folder = tempFolder('untouched')
  writeMigrationsFolder(folder, steps)
  const report = await status({ url, schema: 'st', migrationsFolder: folder })
  expect(report.entries.map((e) => [e.name, e.state, e.appliedAt])).toEqual([
    ['0000_step.sql', 'pending', null],
    ['0001_step.sql', 'pending', null],
    ['0002_step.sql', 'pending', null],
  ])
  expect(report).toMatchObject({ applied: 0, pending: 3, upToDate: false })
  expect(await schemaExists(url, 'st')).toBe(false)
})

test('applied with their time, pending, a changed file, and which have a down file', async () => {
  const folder = tempFolder('mixed')
  writeMigrationsFolder(folder, steps.slice(0, 2))
  const before = new Date()
  await migrate({ url, schema: 'st', migrationsFolder: folder })
  writeMigrationsFolder(folder, steps)
  const file = path.join(folder, '0001_step.sql')
  writeFileSync(file, `${readFileSync(file, 'utf8')}\n-- edited`)

  const report = await status({ url, schema: 'st', migrationsFolder: folder })
  expect(report.entries.map((e) => [e.name, e.state, e.hasDown])).toEqual([
    ['0000_step.sql', 'applied', true],
    ['0001_step.sql', 'changed', true],
    ['0002_step.sql', 'pending', false],
  ])
  const appliedAt = report.entries[0]!.appliedAt!
  const [{ now }] = (await query<{ now: Date }>(url, 'SELECT now()')) as [{ now: Date }]
  expect(appliedAt.getTime()).toBeLessThanOrEqual(now.getTime())
  expect(appliedAt.getTime()).toBeGreaterThan(before.getTime() - 60_000)
  expect(report).toMatchObject({ applied: 1, pending: 1, upToDate: false })
})
