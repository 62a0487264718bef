-- updated_at is maintained by the database, so every UPDATE keeps it current
-- (the API's, a hand-written one in psql, a future migration's), not only the
-- ones that remember to set it. clock_timestamp() rather than now(): now() is
-- the transaction's start, which could be earlier than a concurrent commit's.
-- The function lives in the auth schema, like everything this service owns.
CREATE FUNCTION "auth"."set_updated_at"() RETURNS trigger
LANGUAGE plpgsql
AS $$
BEGIN
  NEW.updated_at := clock_timestamp();
  RETURN NEW;
END;
$$;
--> statement-breakpoint
CREATE TRIGGER "users_set_updated_at"
BEFORE UPDATE ON "auth"."users"
FOR EACH ROW EXECUTE FUNCTION "auth"."set_updated_at"();
