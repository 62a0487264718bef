import Fastify from 'fastify'
import { Type } from 'typebox'
import { expect, test } from 'vitest'
import { sharedSerializerFactory } from '../src/serialization.js'

const Body = Type.Object({ id: Type.Integer(), name: Type.String() })

test('equal schemas share one serializer, across factories; other schemas get their own', () => {
  const first = sharedSerializerFactory({}, {})
  const second = sharedSerializerFactory({}, {})
  const route = { method: 'GET', url: '/a', httpStatus: '200' }
  const serializer = first({ ...route, schema: Type.Object({ id: Type.Integer(), name: Type.String() }) })
  expect(second({ ...route, url: '/b', schema: Body })).toBe(serializer)
  const other = second({ ...route, schema: Type.Object({ id: Type.Integer() }) })
  expect(other).not.toBe(serializer)
  // Each writes what its own schema declares.
  expect(serializer({ id: 1, name: 'x', secret: 's' })).toBe('{"id":1,"name":"x"}')
  expect(other({ id: 1, name: 'x', secret: 's' })).toBe('{"id":1}')
})

test('in an app: routes in different plugins with equal response schemas answer by their schema', async () => {
  const app = Fastify({
    schemaController: { compilersFactory: { buildSerializer: sharedSerializerFactory } },
  })
  const row = { id: 7, name: 'n', password: 'hunter2' }
  for (const prefix of ['/one', '/two']) {
    await app.register(
      async (scope) => {
        scope.get('/', { schema: { response: { 200: Body } } }, async () => row)
        scope.get(
          '/id',
          { schema: { response: { 200: Type.Object({ id: Type.Integer() }) } } },
          async () => row,
        )
      },
      { prefix },
    )
  }
  for (const prefix of ['/one', '/two']) {
    expect((await app.inject(prefix)).body).toBe('{"id":7,"name":"n"}')
    expect((await app.inject(`${prefix}/id`)).body).toBe('{"id":7}')
  }
  await app.close()
})
