CREATE SCHEMA IF NOT EXISTS "problem";
--> statement-breakpoint
CREATE TABLE "problem"."counters" (
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value" bigint NOT NULL,
	CONSTRAINT "counters_tenant_id_name_pk" PRIMARY KEY("tenant_id","name")
);
--> statement-breakpoint
CREATE TABLE "problem"."outbox" (
	"tenant_id" uuid NOT NULL,
	"position" bigint GENERATED ALWAYS AS IDENTITY (sequence name "problem"."outbox_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"txid" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_tenant_id_position_pk" PRIMARY KEY("tenant_id","position")
);
--> statement-breakpoint
CREATE TABLE "problem"."problem_incidents" (
	"tenant_id" uuid NOT NULL,
	"problem_id" uuid NOT NULL,
	"incident_id" uuid NOT NULL,
	"relation" text NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "problem_incidents_tenant_id_problem_id_incident_id_pk" PRIMARY KEY("tenant_id","problem_id","incident_id")
);
--> statement-breakpoint
CREATE TABLE "problem"."problems" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"state" text NOT NULL,
	"external_ref" text,
	"opened_at" timestamp with time zone NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "problems_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "problem"."problem_incidents" ADD CONSTRAINT "problem_incidents_tenant_id_problem_id_problems_tenant_id_id_fk" FOREIGN KEY ("tenant_id","problem_id") REFERENCES "problem"."problems"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "problem_outbox_tenant_txid_idx" ON "problem"."outbox" USING btree ("tenant_id","txid","position");--> statement-breakpoint
CREATE INDEX "problem_outbox_txid_idx" ON "problem"."outbox" USING btree ("txid","position");--> statement-breakpoint
CREATE INDEX "problem_incidents_tenant_incident_idx" ON "problem"."problem_incidents" USING btree ("tenant_id","incident_id","linked_at");--> statement-breakpoint
CREATE UNIQUE INDEX "problems_tenant_number_uq" ON "problem"."problems" USING btree ("tenant_id","number");--> statement-breakpoint
CREATE UNIQUE INDEX "problems_tenant_external_ref_uq" ON "problem"."problems" USING btree ("tenant_id","external_ref");--> statement-breakpoint
CREATE INDEX "problems_tenant_opened_idx" ON "problem"."problems" USING btree ("tenant_id","opened_at" DESC NULLS LAST,"id" DESC NULLS LAST);