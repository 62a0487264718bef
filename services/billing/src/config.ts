// The billing service's configuration: the only reader of process.env (via server.ts).
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

const BillingEnv = Type.Object({
  ...serviceEnv({ port: 5009 }),
  // Tokens must name billing among their audiences (auth's AUTH_TOKEN_AUDIENCES).
  ...authClientEnv({ audience: 'billing' }),
  IDEMPOTENCY_KEY_TTL_SECONDS: Type.Integer({
    minimum: 60,
    maximum: 2_592_000,
    default: 86_400,
    description:
      'how long a stored Idempotency-Key response is replayed, in s, 60 to 2592000 (then the key is free)',
  }),
  IDEMPOTENCY_SWEEP_INTERVAL_SECONDS: Type.Integer({
    minimum: 0,
    // setInterval holds at most 2^31 - 1 ms; beyond it Node would fire every 1 ms.
    maximum: 604_800,
    default: 3600,
    description: 'how often expired Idempotency-Key records are deleted, in s, up to 604800 (0 = never)',
  }),
})

export interface BillingConfig extends ServiceConfig {
  /** auth, whose tokens this service accepts. */
  auth: AuthClientConfig
  idempotency: {
    ttlSeconds: number
    sweepIntervalSeconds: number
  }
}

export function loadConfig(env: Record<string, string | undefined>): Readonly<BillingConfig> {
  const values = loadEnv(BillingEnv, env)
  return Object.freeze({
    ...toServiceConfig(values),
    auth: toAuthClientConfig(values),
    idempotency: Object.freeze({
      ttlSeconds: values.IDEMPOTENCY_KEY_TTL_SECONDS,
      sweepIntervalSeconds: values.IDEMPOTENCY_SWEEP_INTERVAL_SECONDS,
    }),
  })
}
