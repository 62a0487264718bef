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
  // Tokens must name __name__ among their audiences: `make new-service` added it to
  // auth's default AUTH_TOKEN_AUDIENCES (a deployment that sets the variable lists it too).
  ...authClientEnv({ audience: '__name__' }),
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
