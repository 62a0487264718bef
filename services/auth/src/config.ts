// The auth service's configuration: the only reader of process.env (via server.ts).
import { loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '@app/http'
import { Type } from 'typebox'

const AuthEnv = Type.Object({
  ...serviceEnv({ port: 5008 }),
})

export interface AuthConfig extends ServiceConfig {}

export function loadConfig(env: Record<string, string | undefined>): Readonly<AuthConfig> {
  const values = loadEnv(AuthEnv, env)
  return Object.freeze({ ...toServiceConfig(values) })
}
