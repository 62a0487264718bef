import { describe, expect, test } from 'vitest'
import { lintStatement } from '../src/authoring/isolation-lint.js'
import { dropsSchema, touchesLedger } from '../src/index.js'

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

  // What the parser sees that the token lint did not (each of these passed it, or
  // was refused by it, wrongly): names inside strings and PL/pgSQL, quoting and
  // case as PostgreSQL resolves them, SET ROLE and RESET search_path.
  test.each([
    ["SELECT 'billing.plans'::regclass;", 'other-schema', 'names schema "billing" (relation billing.plans'],
    ["SELECT nextval('billing.plans_id_seq');", 'other-schema', '(sequence billing.plans_id_seq'],
    ["SELECT to_regnamespace('billing');", 'other-schema', 'names schema "billing" (\'billing\''],
    ['SELECT * FROM "Auth"."users";', 'other-schema', 'names schema "Auth" (relation Auth.users)'],
    ['SELECT * FROM "reports".daily;', 'other-schema', 'names schema "reports"'],
    ['ALTER TABLE "auth"."users" ADD COLUMN "mood" "billing"."mood";', 'other-schema', '(type billing.mood'],
    [
      'CREATE TRIGGER t BEFORE UPDATE ON "auth"."users" FOR EACH ROW EXECUTE FUNCTION billing.touch();',
      'other-schema',
      '(function billing.touch',
    ],
    ['DROP TRIGGER "t" ON "billing"."plans";', 'other-schema', '(relation billing.plans'],
    ["COMMENT ON COLUMN billing.plans.name IS 'x';", 'other-schema', '(relation billing.plans'],
    [
      'CREATE INDEX "i" ON "auth"."users" ("email" billing.text_ops);',
      'other-schema',
      '(operator class billing.text_ops',
    ],
    ['SET ROLE billing;', 'set-role', 'SET ROLE billing'],
    ["SELECT set_config('role', 'billing', true);", 'set-role', "set_config('role'"],
    ['RESET search_path;', 'search-path', "resets search_path to the role's default"],
    ['SET search_path TO DEFAULT;', 'search-path', "resets search_path to the role's default"],
    ['ALTER FUNCTION "auth"."f"() SET search_path = public;', 'search-path', 'sets search_path to public'],
    [
      'GRANT SELECT ON ALL TABLES IN SCHEMA billing TO auth;',
      'schema-statement',
      'GRANT ... ALL ... IN SCHEMA "billing"',
    ],
    [
      'ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT ON TABLES TO auth;',
      'schema-statement',
      'IN SCHEMA "public"',
    ],
    [
      'ALTER SCHEMA "auth" RENAME TO "auth2";',
      'schema-statement',
      'renames the service\'s own schema "auth"',
    ],
    ['CREATE SCHEMA AUTHORIZATION auth;', 'schema-statement', 'CREATE SCHEMA AUTHORIZATION'],
    [
      'DROP SCHEMA IF EXISTS "reports", "auth" CASCADE;',
      'own-schema-dropped',
      "drops the service's own schema",
    ],
    ['SELCT 1;', 'syntax', 'does not parse: syntax error at or near "SELCT"'],
    [
      'CREATE FUNCTION "auth"."n"() RETURNS int LANGUAGE sql AS \'SELECT count(*)::int FROM "billing"."plans"\';',
      'other-schema',
      '(relation billing.plans',
    ],
    [
      'CREATE FUNCTION "auth"."n"() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT count(*)::int FROM billing.plans; END;',
      'other-schema',
      '(relation billing.plans',
    ],
    [
      'CREATE FUNCTION "auth"."n"() RETURNS int LANGUAGE plpgsql AS $fn$ DECLARE p billing.plans%ROWTYPE; BEGIN RETURN 1; END $fn$;',
      'other-schema',
      '(relation billing.plans',
    ],
    [
      'CREATE FUNCTION "auth"."n"() RETURNS int LANGUAGE plpgsql AS $$ BEGIN IF EXISTS (SELECT 1 FROM public.flags) THEN RETURN 1; END IF; RETURN 0; END $$;',
      'other-schema',
      '(relation public.flags)',
    ],
    ['DO $$ BEGIN PERFORM billing.charge(); END $$;', 'other-schema', '(function billing.charge'],
    ["DO $do$ BEGIN EXECUTE 'TRUNCATE billing.plans'; END $do$;", 'other-schema', '(relation billing.plans'],
  ])('refuses what the tokens missed: %s', (statement, rule, message) => {
    const found = lintStatement(statement, auth)
    expect(found.map((v) => v.rule)).toContain(rule)
    expect(found.find((v) => v.rule === rule)!.message).toContain(message)
  })

  test.each([
    // "billing" here is the table's alias: a column reference, not a schema.
    ['SELECT billing.total FROM "auth"."invoices" AS billing;'],
    // Comments, strings and dollar-quoted text that only mention another schema.
    ["/* moved from billing.plans */ CREATE TABLE auth.plans (note text DEFAULT 'see public.docs');"],
    ['SELECT $q$billing.plans$q$;'],
    ['CREATE TABLE "auth"."Mixed Case" ("Billing" int);'],
    ['SELECT "auth"."users"."email" FROM "auth"."users";'],
    ["SELECT 'auth.users'::regclass, nextval('auth.users_id_seq'), pg_catalog.now();"],
    ['SET LOCAL search_path TO auth, pg_catalog;'],
    ["DO $$ BEGIN EXECUTE 'ANALYZE auth.users'; END $$;"],
    ['CREATE TABLE "auth"."t" ("n" int, "s" text COLLATE "C");'],
    ['SELECT x.y FROM (SELECT 1 AS y) AS x;'],
  ])('accepts what the tokens refused, or only looked like another schema: %s', (statement) => {
    expect(lintStatement(statement, auth)).toEqual([])
  })

  test('SQL built at run time is flagged as unverifiable: a warning naming it, not a pass and not a refusal', () => {
    const [found, ...rest] = lintStatement(
      "DO $$ DECLARE t text := 'plans'; BEGIN EXECUTE format('DELETE FROM %I.%I', 'billing', t); END $$;",
      auth,
    )
    expect(rest).toEqual([])
    expect(found).toMatchObject({ rule: 'unverifiable', severity: 'warning' })
    expect(found!.message).toContain(
      "runs SQL built at run time (EXECUTE format('DELETE FROM %I.%I', 'billing', t))",
    )
    const other = lintStatement(
      "CREATE FUNCTION auth.p() RETURNS int LANGUAGE plpython3u AS 'return 1';",
      auth,
    )
    expect(other).toMatchObject([{ rule: 'unverifiable', severity: 'warning' }])
  })

  test('every statement of a chunk is checked, each function body with its own text', () => {
    const found = lintStatement(
      `CREATE FUNCTION "auth"."a"() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
       CREATE FUNCTION "auth"."b"() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN (SELECT count(*) FROM billing.plans); END $$;`,
      auth,
    )
    expect(found.map((v) => v.message)).toEqual([
      'names schema "billing" (relation billing.plans, another service\'s schema)',
    ])
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
