// The example resource. Anyone may read items; creating one needs a bearer token
// from auth (verified against auth's published keys, see app.ts).
import { decodeCursor, described, IdParams, Page, PageQuery, toPage } from '@app/service'
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox'
import { errors } from '../errors.js'
import { findItem, type ItemRow, insertItem, listItems } from '../repositories/items-repository.js'
import { CreateItemBody, Item } from '../schemas/items.js'

/** A row as the API shows it: dates as ISO strings. */
function toItem(row: ItemRow): Item {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  }
}

export const itemRoutes: FastifyPluginAsyncTypebox = async (app) => {
  app.post(
    '/items',
    {
      onRequest: app.authenticate,
      schema: {
        operationId: 'createItem',
        tags: ['items'],
        summary: 'Create an item',
        description: 'Any authenticated user may create an item.',
        body: CreateItemBody,
        response: { 201: described(Item, 'The new item') },
      },
    },
    async (request, reply) => reply.code(201).send(toItem(await insertItem(app.db, request.body))),
  )

  app.get(
    '/items',
    {
      schema: {
        operationId: 'listItems',
        tags: ['items'],
        summary: 'List items, newest first',
        description: 'Public. Paginated: pass `nextCursor` as `cursor` for the next page.',
        querystring: PageQuery,
        response: { 200: described(Page(Item), 'One page of items') },
      },
    },
    async (request) => {
      const { limit, cursor } = request.query
      const page = toPage(await listItems(app.db, { limit, after: decodeCursor(cursor) }), limit)
      return { items: page.items.map(toItem), nextCursor: page.nextCursor }
    },
  )

  app.get(
    '/items/:id',
    {
      schema: {
        operationId: 'getItem',
        tags: ['items'],
        summary: 'Get an item',
        description: 'Public. 404 ITEM_NOT_FOUND for an id with no item.',
        params: IdParams("The item's id"),
        response: { 200: described(Item, 'The item'), ...errors.responses('ITEM_NOT_FOUND') },
      },
    },
    async (request) => {
      const row = await findItem(app.db, request.params.id)
      if (!row) throw errors.error('ITEM_NOT_FOUND', `no item with id ${request.params.id}`)
      return toItem(row)
    },
  )
}
