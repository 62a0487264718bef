DROP TRIGGER "user_subscriptions_set_updated_at" ON "billing"."user_subscriptions";
--> statement-breakpoint
DROP TRIGGER "subscriptions_set_updated_at" ON "billing"."subscriptions";
--> statement-breakpoint
DROP FUNCTION "billing"."set_updated_at"();
