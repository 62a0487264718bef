// Process launch to /readyz 200, for each service: on an empty database (it must
// apply its migrations) and with migrations already applied; beside a bare
// node + pg + http process, the floor of any service start on this machine.
import { fileURLToPath } from 'node:url'
import { bootstrapServices, type ServiceInfo, serviceConnections } from '@app/migrations/authoring'
import { authSigningKeyEnv } from './auth-signing-key.js'
import { benchDatabase } from './database.js'
import { startService } from './service-process.js'
import { median, round } from './timing.js'

export interface StartupFigures {
  service: string
  emptyDbMs: number
  migratedMs: number
  floorMs: number
}

const FLOOR = fileURLToPath(new URL('./floor-server.mjs', import.meta.url))

export async function benchStartup(adminUrl: string, services: ServiceInfo[], logFile: string, runs = 5) {
  const figures: StartupFigures[] = []
  for (const service of services) {
    const empty: number[] = []
    const migrated: number[] = []
    const floor: number[] = []
    for (let i = 0; i < runs; i++) {
      const database = await benchDatabase(adminUrl, `start_${service.name}`)
      try {
        await bootstrapServices(database.url, [service], {})
        const env = { ...serviceConnections(database.url, service, {}), LOG_LEVEL: 'info' }
        for (const samples of [empty, migrated]) {
          // The other services ignore auth's variable.
          const serviceEnv = { ...env, ...authSigningKeyEnv() }
          const running = await startService({
            entry: service.entry,
            name: service.name,
            env: serviceEnv,
            logFile,
          })
          samples.push(running.readyMs)
          await running.stop()
        }
        const bare = await startService({ entry: FLOOR, name: 'floor', env, logFile })
        floor.push(bare.readyMs)
        await bare.stop()
      } finally {
        await database.drop()
      }
    }
    figures.push({
      service: service.name,
      emptyDbMs: round(median(empty)),
      migratedMs: round(median(migrated)),
      floorMs: round(median(floor)),
    })
  }
  return figures
}
