-- One service's place in the database: a login role and a schema it owns, and
-- nothing else. The role gets no privilege on any other service's schema, so a
-- migration or query that touches one fails with "permission denied"; and nobody
-- may create objects in public.
--
-- Run once per service, with the psql variables `service` and `password`:
--   psql -v ON_ERROR_STOP=1 -v service=auth -v password=... -f bootstrap-service.sql
-- `make bootstrap` runs this same file (packages/ops substitutes the two variables).
-- Idempotent: running it again changes nothing. The password is set when the role
-- is created; rotate it with ALTER ROLE.

SELECT set_config('bootstrap.service', :'service', false),
       set_config('bootstrap.password', :'password', false);

DO $bootstrap$
DECLARE
  svc text := current_setting('bootstrap.service');
  pw text := current_setting('bootstrap.password');
BEGIN
  IF svc !~ '^[a-z_][a-z0-9_]{0,62}$' THEN
    RAISE EXCEPTION 'service name "%" must be lower case letters, digits and underscores', svc;
  END IF;

  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = svc) THEN
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN PASSWORD %L NOSUPERUSER NOCREATEDB NOCREATEROLE', svc, pw);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN
      NULL; -- created concurrently by a bootstrap in another database of this cluster
    END;
  END IF;

  EXECUTE format('GRANT CONNECT ON DATABASE %I TO %I', current_database(), svc);

  IF NOT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = svc) THEN
    EXECUTE format('CREATE SCHEMA %I AUTHORIZATION %I', svc, svc);
  ELSIF (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = svc) <> svc THEN
    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', svc, svc);
  END IF;

  -- Unqualified names in a psql session as the service resolve to its own schema.
  EXECUTE format('ALTER ROLE %I IN DATABASE %I SET search_path = %I', svc, current_database(), svc);
END
$bootstrap$;

REVOKE CREATE ON SCHEMA public FROM PUBLIC;
