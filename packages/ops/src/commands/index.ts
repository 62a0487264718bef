// Every ops command, by name. One module per command.
import type { Command } from '../command.js'
import { addMigrationCommand } from './add-migration.js'
import { adminCommand } from './admin.js'
import { bootstrapCommand } from './bootstrap.js'
import { checkCommand } from './check.js'
import { devCommand } from './dev.js'
import { migrateCommand } from './migrate.js'
import { newServiceCommand } from './new-service.js'
import { rollbackCommand } from './rollback.js'
import { runCommand } from './run.js'
import { statusCommand } from './status.js'
import { writeDownsCommand } from './write-downs.js'

export const commands: Command[] = [
  migrateCommand,
  statusCommand,
  bootstrapCommand,
  devCommand,
  runCommand,
  rollbackCommand,
  addMigrationCommand,
  checkCommand,
  writeDownsCommand,
  newServiceCommand,
  adminCommand,
]
