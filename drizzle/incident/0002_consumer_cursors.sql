CREATE TABLE "incident"."consumer_cursors" (
	"consumer" text PRIMARY KEY NOT NULL,
	"cursor" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
