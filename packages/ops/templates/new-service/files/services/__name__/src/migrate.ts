// The one-shot migration entry (dist/migrate.js): applies __name__'s migrations as the
// schema owner and exits 0 at head, for a pre-deploy job. See @app/service/migrate-entry.
import { runMigrations } from '@app/service/migrate-entry'
import { migrations } from './db/migrations.js'

process.exitCode = await runMigrations({ name: '__name__', migrations })
