CREATE SCHEMA IF NOT EXISTS "change";
--> statement-breakpoint
CREATE TABLE "change"."change_incidents" (
	"tenant_id" uuid NOT NULL,
	"change_id" uuid NOT NULL,
	"incident_id" uuid NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "change_incidents_tenant_id_change_id_incident_id_pk" PRIMARY KEY("tenant_id","change_id","incident_id")
);
--> statement-breakpoint
CREATE TABLE "change"."change_problems" (
	"tenant_id" uuid NOT NULL,
	"change_id" uuid NOT NULL,
	"problem_id" uuid NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "change_problems_tenant_id_change_id_problem_id_pk" PRIMARY KEY("tenant_id","change_id","problem_id")
);
--> statement-breakpoint
CREATE TABLE "change"."change_requests" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"type" text NOT NULL,
	"state" text NOT NULL,
	"external_ref" text,
	"opened_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "change_requests_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."counters" (
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value" bigint NOT NULL,
	CONSTRAINT "counters_tenant_id_name_pk" PRIMARY KEY("tenant_id","name")
);
--> statement-breakpoint
CREATE TABLE "change"."outbox" (
	"tenant_id" uuid NOT NULL,
	"position" bigint GENERATED ALWAYS AS IDENTITY (sequence name "change"."outbox_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"txid" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_tenant_id_position_pk" PRIMARY KEY("tenant_id","position")
);
--> statement-breakpoint
ALTER TABLE "change"."change_incidents" ADD CONSTRAINT "change_incidents_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_problems" ADD CONSTRAINT "change_problems_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_incidents_tenant_incident_idx" ON "change"."change_incidents" USING btree ("tenant_id","incident_id");--> statement-breakpoint
CREATE INDEX "change_problems_tenant_problem_idx" ON "change"."change_problems" USING btree ("tenant_id","problem_id");--> statement-breakpoint
CREATE UNIQUE INDEX "change_requests_tenant_number_uq" ON "change"."change_requests" USING btree ("tenant_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "change_requests_tenant_external_ref_uq" ON "change"."change_requests" USING btree ("tenant_id","external_ref");--> statement-breakpoint
CREATE INDEX "change_requests_tenant_opened_idx" ON "change"."change_requests" USING btree ("tenant_id","opened_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "change_outbox_tenant_txid_idx" ON "change"."outbox" USING btree ("tenant_id","txid","position");--> statement-breakpoint
CREATE INDEX "change_outbox_txid_idx" ON "change"."outbox" USING btree ("txid","position");