// The billing service's configuration: the only reader of process.env (via server.ts).
import { loadEnv, type ServiceConfig, serviceEnv, toServiceConfig } from '@app/http'
import { Type } from 'typebox'

const BillingEnv = Type.Object({
  ...serviceEnv({ port: 5009 }),
})

export interface BillingConfig extends ServiceConfig {}

export function loadConfig(env: Record<string, string | undefined>): Readonly<BillingConfig> {
  const values = loadEnv(BillingEnv, env)
  return Object.freeze({ ...toServiceConfig(values) })
}
