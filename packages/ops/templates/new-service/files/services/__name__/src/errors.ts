// __name__'s own error codes, beside the kit's shared ones: what its routes throw and
// what its OpenAPI document lists per operation and status.
import { defineErrors } from '@app/service'

export const errors = defineErrors({
  ITEM_NOT_FOUND: { status: 404, description: 'no item has this id' },
})
