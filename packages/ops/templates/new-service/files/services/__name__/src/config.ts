// The __name__ service's configuration: the only reader of process.env (via server.ts).
import {
  type AuthClientConfig,
  authClientEnv,
  loadEnv,
  type ServiceConfig,
  serviceEnv,
  toAuthClientConfig,
  toServiceConfig,
} from '@app/service'
import { Type } from 'typebox'

const __Name__Env = Type.Object({
  ...serviceEnv({ port: __port__ }),
  ...authClientEnv(),
})

export interface __Name__Config extends ServiceConfig {
  /** auth, whose tokens this service accepts. */
  auth: AuthClientConfig
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<__Name__Config> {
  const values = loadEnv(__Name__Env, env)
  return Object.freeze({
    ...toServiceConfig(values),
    auth: toAuthClientConfig(values),
  })
}
