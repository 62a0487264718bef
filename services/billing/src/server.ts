// The billing process: config -> listen (alive, not ready) -> migrate -> ready.
import { runService } from '@app/service'
import { buildApp } from './app.js'
import { loadConfig } from './config.js'
import { migrations } from './db/migrations.js'

// Not awaited: the bundle is a CommonJS file (for its code cache, see @app/service's
// code-cache.ts), where a top-level await cannot be. A failure still ends the process.
void runService({ name: 'billing', loadConfig, buildApp: (config) => buildApp(config), migrations })
