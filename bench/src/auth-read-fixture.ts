// What the standalone A/B scripts (scripts/) load: auth's users table as its migrations
// leave it, one row, and the read by id exactly as Drizzle sends it for
// GET /auth/users/{id} (rows as arrays).
import pg from 'pg'

export const AUTH_READ_SQL =
  'select "id", "username", "email", "disabled", "created_at", "updated_at" from "auth"."users" where "users"."id" = $1'

/** Creates auth.users with one row in the database at `url`; returns the row's id. */
export async function createAuthReadFixture(url: string): Promise<string> {
  const setup = new pg.Client(url)
  await setup.connect()
  try {
    await setup.query(`CREATE SCHEMA auth;
      CREATE TABLE auth.users (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), username varchar(32) NOT NULL,
        email varchar(254) NOT NULL, disabled boolean NOT NULL DEFAULT false,
        created_at timestamptz(3) NOT NULL DEFAULT now(), updated_at timestamptz(3) NOT NULL DEFAULT now());
      INSERT INTO auth.users (username, email) VALUES ('bench', 'bench@example.com')`)
    return (await setup.query('SELECT id FROM auth.users')).rows[0].id as string
  } finally {
    await setup.end()
  }
}
