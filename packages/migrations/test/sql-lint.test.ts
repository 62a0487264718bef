import { describe, expect, test } from 'vitest'
import { dropsSchema, lintStatement, touchesLedger } from '../src/index.js'

const auth = { schema: 'auth', forbiddenSchemas: ['auth', 'billing'] }
const rules = (statement: string) => lintStatement(statement, auth).map((v) => v.rule)

describe('isolation lint', () => {
  test.each([
    ['CREATE TABLE "auth"."users" ("id" uuid PRIMARY KEY);'],
    [
      'ALTER TABLE "auth"."sessions" ADD CONSTRAINT "fk" FOREIGN KEY ("user_id") REFERENCES "auth"."users"("id");',
    ],
    ['CREATE TABLE notes (id int);'],
    ['CREATE SCHEMA "auth";'],
    ['CREATE SCHEMA IF NOT EXISTS auth;'],
    ['-- copied from public.users\nCREATE TABLE "auth"."copy" (id int);'],
    [`COMMENT ON TABLE "auth"."users" IS 'replaces public.users and billing.accounts';`],
    ['UPDATE "auth"."users" u SET "email" = lower(u.email);'],
    [
      'CREATE FUNCTION "auth"."f"() RETURNS trigger LANGUAGE plpgsql SET search_path = auth, pg_temp AS $$ BEGIN RETURN NEW; END $$;',
    ],
    ['SELECT pg_catalog.now();'],
    ['CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA auth;'],
  ])('accepts %s', (statement) => {
    expect(lintStatement(statement, auth)).toEqual([])
  })

  test.each([
    ['ALTER TABLE "billing"."plans" ADD COLUMN "x" int;', 'other-schema'],
    ['SELECT * FROM billing.plans;', 'other-schema'],
    ['SELECT * FROM BILLING.plans;', 'other-schema'],
    ['CREATE TABLE public.stray (id int);', 'other-schema'],
    ['CREATE TABLE "public"."stray" (id int);', 'other-schema'],
    [
      'ALTER TABLE "auth"."users" ADD CONSTRAINT "fk" FOREIGN KEY ("plan") REFERENCES "billing"."plans"("id");',
      'other-schema',
    ],
    [
      'CREATE FUNCTION "auth"."peek"() RETURNS int LANGUAGE sql AS $$ SELECT count(*)::int FROM billing.plans $$;',
      'other-schema',
    ],
    [
      'CREATE FUNCTION "auth"."peek"() RETURNS int LANGUAGE sql AS $body$ SELECT 1 FROM public.t $body$;',
      'other-schema',
    ],
    ['SET search_path TO billing;', 'search-path'],
    ['SET LOCAL search_path = public, auth;', 'search-path'],
    ["SELECT set_config('search_path', 'billing', true);", 'search-path'],
    ['CREATE SCHEMA billing;', 'schema-statement'],
    ['CREATE SCHEMA IF NOT EXISTS "reports";', 'schema-statement'],
    ['ALTER TABLE "auth"."users" SET SCHEMA public;', 'schema-statement'],
    ['GRANT USAGE ON SCHEMA billing TO auth;', 'schema-statement'],
    ['CREATE EXTENSION IF NOT EXISTS pgcrypto SCHEMA public;', 'schema-statement'],
    ['DROP SCHEMA "auth" CASCADE;', 'own-schema-dropped'],
    ['DELETE FROM "auth"."__drizzle_migrations";', 'ledger'],
  ])('refuses %s', (statement, rule) => {
    expect(rules(statement)).toContain(rule)
    expect(lintStatement(statement, auth)[0]!.statement).toBe(statement)
  })

  test('public is forbidden even when no other service is known', () => {
    expect(lintStatement('CREATE TABLE public.x (id int);', { schema: 'auth' })).toHaveLength(1)
  })

  test('dropsSchema and touchesLedger, the rollback guards', () => {
    expect(dropsSchema('DROP SCHEMA IF EXISTS "auth" CASCADE;', 'auth')).toBe(true)
    expect(dropsSchema('DROP SCHEMA auth;', 'auth')).toBe(true)
    expect(dropsSchema('DROP TABLE "auth"."schema";', 'auth')).toBe(false)
    expect(touchesLedger('TRUNCATE auth.__drizzle_migrations')).toBe(true)
    expect(touchesLedger("SELECT '__drizzle_migrations'")).toBe(false)
  })
})
