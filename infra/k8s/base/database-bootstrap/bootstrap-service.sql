-- One service's place in the database: a schema and two login roles, nothing else.
--
--   <service>      owns the schema. Runs the migrations (DDL) and is the only role
--                  that writes the migration ledger. Used by `make migrate`, the
--                  pre-deploy migration Job, and a service that migrates at start
--                  (MIGRATION_DATABASE_URL).
--   <service>_app  serves requests (DATABASE_URL, possibly through a transaction
--                  pooler). SELECT, INSERT, UPDATE, DELETE on the schema's tables
--                  and what their sequences need, through default privileges, so
--                  tables that later migrations add are covered; the ledger only
--                  readable (the migration runner keeps it so); no DDL.
--
-- Neither role has any privilege on another service's schema, so a query that
-- touches one fails with "permission denied"; and nobody may create objects in
-- public. The runtime role's per-request limits are role settings
-- (ALTER ROLE ... IN DATABASE ... SET), so they hold through a transaction pooler,
-- which refuses them as startup parameters and shares server connections.
--
-- Run once per service, with the psql variables `service`, `password` (the
-- owner's), `app_password` (the runtime role's) and `statement_timeout` (the
-- runtime role's, e.g. 5s):
--   psql -v ON_ERROR_STOP=1 -v service=auth -v password=... -v app_password=... \
--        -v statement_timeout=5s -f bootstrap-service.sql
-- `make bootstrap` runs this same file (packages/ops substitutes the variables).
-- Idempotent: running it again changes nothing. Passwords are set when a role is
-- created; rotate them with ALTER ROLE. The settings are made to match each run.

BEGIN;

-- Bootstraps started together (replicas started at once with `make run`, a deploy)
-- would otherwise fail with "tuple concurrently updated": PostgreSQL answers
-- concurrent GRANT / ALTER ROLE on the same catalog row that way. One at a time
-- per database ("boot" in ASCII).
SELECT pg_advisory_xact_lock(1651470196);

SELECT set_config('bootstrap.service', :'service', true),
       set_config('bootstrap.password', :'password', true),
       set_config('bootstrap.app_password', :'app_password', true),
       set_config('bootstrap.statement_timeout', :'statement_timeout', true);

DO $bootstrap$
DECLARE
  svc text := current_setting('bootstrap.service');
  app text := current_setting('bootstrap.service') || '_app';
  db text := current_database();
  setting record;
BEGIN
  IF svc !~ '^[a-z_][a-z0-9_]{0,58}$' THEN
    RAISE EXCEPTION 'service name "%" must be lower case letters, digits and underscores (at most 59)', svc;
  END IF;
  -- An invalid value fails here, naming the setting, before anything is changed.
  PERFORM set_config('statement_timeout', current_setting('bootstrap.statement_timeout'), true);
  PERFORM set_config('statement_timeout', '0', true);

  -- Roles are shared by every database of the cluster: another database's bootstrap
  -- (not serialized by this database's lock) may create them at the same moment.
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = svc) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE',
                     svc, current_setting('bootstrap.password'));
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = app) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE',
                     app, current_setting('bootstrap.app_password'));
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;
  -- The owner may see (and cancel) its runtime role's sessions in full: the
  -- migration runner names them when one holds a lock a migration waits for.
  IF NOT pg_has_role(svc, app, 'MEMBER') THEN
    BEGIN
      EXECUTE format('GRANT %I TO %I', app, svc);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL;
    END;
  END IF;

  IF NOT has_database_privilege(svc, db, 'CONNECT') OR NOT has_database_privilege(app, db, 'CONNECT') THEN
    EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I, %I', db, svc, app);
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = svc) THEN
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', svc, svc);
  ELSIF (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = svc) <> svc THEN
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', svc, svc);
  END IF;

  -- The runtime role: DML on what the owner creates in the schema, now and later.
  IF NOT has_schema_privilege(app, svc, 'USAGE') THEN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', svc, app);
  END IF;
  IF NOT EXISTS (
    SELECT 1 FROM pg_default_acl d, aclexplode(d.defaclacl) a
     WHERE d.defaclrole = svc::regrole AND d.defaclnamespace = svc::regnamespace
       AND d.defaclobjtype = 'r' AND a.grantee = app::regrole AND a.privilege_type = 'DELETE'
  ) THEN
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO %I',
                   svc, svc, app);
    EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA %I GRANT USAGE, SELECT ON SEQUENCES TO %I',
                   svc, svc, app);
  END IF;
  -- Tables that existed before the runtime role did (a schema migrated before this
  -- bootstrap); the ledger stays read-only.
  FOR setting IN
    SELECT c.oid::regclass AS rel, c.relkind, c.relname
      FROM pg_class c
     WHERE c.relnamespace = svc::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  LOOP
    IF setting.relkind = 'S' THEN
      IF setting.relname = '__drizzle_migrations_id_seq' THEN
        CONTINUE;
      ELSIF NOT has_sequence_privilege(app, setting.rel, 'USAGE') THEN
        EXECUTE format('GRANT USAGE, SELECT ON SEQUENCE %s TO %I', setting.rel, app);
      END IF;
    ELSIF setting.relname = '__drizzle_migrations' THEN
      IF NOT has_table_privilege(app, setting.rel, 'SELECT') THEN
        EXECUTE format('GRANT SELECT ON TABLE %s TO %I', setting.rel, app);
      END IF;
    ELSIF NOT (has_table_privilege(app, setting.rel, 'SELECT') AND has_table_privilege(app, setting.rel, 'INSERT')
               AND has_table_privilege(app, setting.rel, 'UPDATE') AND has_table_privilege(app, setting.rel, 'DELETE')) THEN
      EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON TABLE %s TO %I', setting.rel, app);
    END IF;
  END LOOP;

  -- Session defaults in this database, written only when they differ. search_path:
  -- unqualified names in a psql session as either role resolve to the schema.
  FOR setting IN
    SELECT * FROM (VALUES
      (svc, 'search_path', quote_ident(svc)),
      (app, 'search_path', quote_ident(svc)),
      (app, 'statement_timeout', current_setting('bootstrap.statement_timeout')),
      -- A request that died mid-transaction must not hold its locks for long.
      (app, 'idle_in_transaction_session_timeout', '60s')
    ) AS wanted(role, name, value)
  LOOP
    IF NOT EXISTS (
      SELECT 1 FROM pg_db_role_setting s
       WHERE s.setdatabase = (SELECT oid FROM pg_database WHERE datname = db)
         AND s.setrole = setting.role::regrole
         AND (setting.name || '=' || setting.value) = ANY (s.setconfig)
    ) THEN
      EXECUTE format('ALTER ROLE %I IN DATABASE %I SET %s = %L', setting.role, db, setting.name, setting.value);
    END IF;
  END LOOP;

  IF has_schema_privilege('public', 'public', 'CREATE') THEN
    REVOKE CREATE ON SCHEMA public FROM PUBLIC;
  END IF;
END
$bootstrap$;

COMMIT;
