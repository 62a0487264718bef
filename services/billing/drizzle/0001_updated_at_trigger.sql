-- updated_at is maintained by the database on every UPDATE, whoever runs it (the
-- service, a backfill, an operator in psql), instead of trusting each caller.
CREATE FUNCTION "billing"."set_updated_at"() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER "subscriptions_set_updated_at" BEFORE UPDATE ON "billing"."subscriptions"
FOR EACH ROW EXECUTE FUNCTION "billing"."set_updated_at"();
--> statement-breakpoint
CREATE TRIGGER "user_subscriptions_set_updated_at" BEFORE UPDATE ON "billing"."user_subscriptions"
FOR EACH ROW EXECUTE FUNCTION "billing"."set_updated_at"();
