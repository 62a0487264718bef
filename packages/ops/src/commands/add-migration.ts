import { addMigration, discoverServices, requireService } from '@app/migrations/authoring'
import type { Command } from '../command.js'

export const addMigrationCommand: Command = {
  name: 'add-migration',
  usage: 'add-migration --svc <svc> --msg <text> [--custom]',
  summary:
    'generate a migration from the models (drizzle-kit) and its down file; --custom for hand-written SQL (OPS_CUSTOM=no-transaction: one that runs outside a transaction)',
  async run({ options, out, err }) {
    const all = discoverServices()
    const service = requireService(options.svc, all)
    return addMigration({
      service,
      otherSchemas: all.filter((s) => s.schema !== service.schema).map((s) => s.schema),
      msg: options.msg,
      custom: options.custom,
      noTransaction: options.noTransaction,
      // drizzle-kit asks about renames on a terminal; elsewhere it must not wait for an answer.
      interactive: Boolean(process.stdin.isTTY && process.stdout.isTTY),
      out,
      err,
    })
  },
}
