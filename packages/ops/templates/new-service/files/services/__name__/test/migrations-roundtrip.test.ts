// Every __name__ migration can be undone, and rolling __name__ back never touches auth
// (the shared round trip: @app/testkit migrationsRoundTrip).
import { migrationsRoundTrip } from '@app/testkit'
import { beforeAll, inject, test } from 'vitest'

const roundTrip = migrationsRoundTrip({ service: '__name__', other: 'auth' })
beforeAll(() => roundTrip.setup(inject('testRun')))

test('__name__: up, down, up gives identical catalogs, one migration at a time and all at once', () =>
  roundTrip.upDownUp())

test("rolling back __name__ never changes auth's schema", () => roundTrip.otherUntouched())
