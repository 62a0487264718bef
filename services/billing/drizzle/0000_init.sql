CREATE SCHEMA "billing";
--> statement-breakpoint
CREATE TYPE "billing"."user_subscription_status" AS ENUM('active', 'cancelled');--> statement-breakpoint
CREATE TABLE "billing"."idempotency_keys" (
	"user_id" uuid NOT NULL,
	"key" varchar(255) NOT NULL,
	"request_hash" char(64) NOT NULL,
	"status_code" smallint,
	"response_body" jsonb,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "idempotency_keys_pkey" PRIMARY KEY("user_id","key")
);
--> statement-breakpoint
CREATE TABLE "billing"."subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"category" varchar(64) NOT NULL,
	"price_minor" bigint NOT NULL,
	"currency" char(3) NOT NULL,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "subscriptions_price_minor_range" CHECK ("billing"."subscriptions"."price_minor" BETWEEN 0 AND 1000000000000),
	CONSTRAINT "subscriptions_currency_iso4217" CHECK ("billing"."subscriptions"."currency" ~ '^[A-Z]{3}$')
);
--> statement-breakpoint
CREATE TABLE "billing"."user_subscriptions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"user_id" uuid NOT NULL,
	"subscription_id" uuid NOT NULL,
	"status" "billing"."user_subscription_status" DEFAULT 'active' NOT NULL,
	"cancelled_at" timestamp (3) with time zone,
	"created_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp (3) with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "user_subscriptions_cancelled_at_matches_status" CHECK (("billing"."user_subscriptions"."status" = 'cancelled') = ("billing"."user_subscriptions"."cancelled_at" IS NOT NULL))
);
--> statement-breakpoint
ALTER TABLE "billing"."user_subscriptions" ADD CONSTRAINT "user_subscriptions_subscription_id_subscriptions_id_fk" FOREIGN KEY ("subscription_id") REFERENCES "billing"."subscriptions"("id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "idempotency_keys_created_at_idx" ON "billing"."idempotency_keys" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "subscriptions_created_at_id_idx" ON "billing"."subscriptions" USING btree ("created_at","id");--> statement-breakpoint
CREATE INDEX "user_subscriptions_user_id_created_at_id_idx" ON "billing"."user_subscriptions" USING btree ("user_id","created_at","id");--> statement-breakpoint
CREATE INDEX "user_subscriptions_subscription_id_idx" ON "billing"."user_subscriptions" USING btree ("subscription_id");--> statement-breakpoint
CREATE UNIQUE INDEX "user_subscriptions_one_active_per_plan" ON "billing"."user_subscriptions" USING btree ("user_id","subscription_id") WHERE "billing"."user_subscriptions"."status" = 'active';