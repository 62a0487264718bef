// The __name__ process: config -> listen (alive, not ready) -> migrate -> ready.
import { runService } from '@app/service'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { migrations } from './db/migrations.js'

await runService({ name: '__name__', loadConfig, buildApp: (config) => buildApp(config), migrations })
