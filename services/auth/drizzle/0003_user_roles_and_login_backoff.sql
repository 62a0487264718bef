CREATE TYPE "auth"."user_role" AS ENUM('user', 'admin');--> statement-breakpoint
CREATE TABLE "auth"."login_failures" (
	"username" varchar(32) PRIMARY KEY NOT NULL,
	"failures" integer NOT NULL,
	"blocked_until" timestamp (3) with time zone,
	"last_failure_at" timestamp (3) with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "auth"."users" ADD COLUMN "role" "auth"."user_role" DEFAULT 'user' NOT NULL;--> statement-breakpoint
CREATE INDEX "login_failures_last_failure_at_idx" ON "auth"."login_failures" USING btree ("last_failure_at");