// Every ops command, by name. One module per command.
import type { Command } from '../command.js'
import { migrateCommand } from './migrate.js'
import { statusCommand } from './status.js'

export const commands: Command[] = [migrateCommand, statusCommand]
