CREATE SCHEMA IF NOT EXISTS "incident";
--> statement-breakpoint
CREATE TABLE "incident"."counters" (
	"tenant_id" uuid NOT NULL,
	"name" text NOT NULL,
	"value" bigint NOT NULL,
	CONSTRAINT "counters_tenant_id_name_pk" PRIMARY KEY("tenant_id","name")
);
--> statement-breakpoint
CREATE TABLE "incident"."incident_history" (
	"tenant_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "incident"."incident_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"incident_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"field" text NOT NULL,
	"from_value" text,
	"to_value" text,
	"reason" text,
	CONSTRAINT "incident_history_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "incident"."incidents" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"title" text NOT NULL,
	"description" text,
	"state" text NOT NULL,
	"hold_reason" text,
	"impact" integer NOT NULL,
	"urgency" integer NOT NULL,
	"priority" integer NOT NULL,
	"category" text,
	"subcategory" text,
	"configuration_item" text,
	"assignment_group" text,
	"assignee" text,
	"caller" text,
	"reassignment_count" integer DEFAULT 0 NOT NULL,
	"reopen_count" integer DEFAULT 0 NOT NULL,
	"opened_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	"closed_at" timestamp with time zone,
	"resolution_code" text,
	"resolution_notes" text,
	"major" boolean DEFAULT false NOT NULL,
	"external_ref" text,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "incidents_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "incident"."outbox" (
	"tenant_id" uuid NOT NULL,
	"position" bigint GENERATED ALWAYS AS IDENTITY (sequence name "incident"."outbox_position_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"txid" bigint DEFAULT (pg_current_xact_id()::text::bigint) NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"occurred_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "outbox_tenant_id_position_pk" PRIMARY KEY("tenant_id","position")
);
--> statement-breakpoint
CREATE TABLE "incident"."tenant_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"priority_matrix" jsonb,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "incident"."incident_history" ADD CONSTRAINT "incident_history_tenant_id_incident_id_incidents_tenant_id_id_fk" FOREIGN KEY ("tenant_id","incident_id") REFERENCES "incident"."incidents"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "incident_history_tenant_incident_idx" ON "incident"."incident_history" USING btree ("tenant_id","incident_id","id");--> statement-breakpoint
CREATE UNIQUE INDEX "incidents_tenant_number_uq" ON "incident"."incidents" USING btree ("tenant_id","number");--> statement-breakpoint
CREATE INDEX "incidents_tenant_opened_idx" ON "incident"."incidents" USING btree ("tenant_id","opened_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "incidents_tenant_state_priority_idx" ON "incident"."incidents" USING btree ("tenant_id","state","priority");--> statement-breakpoint
CREATE INDEX "incidents_tenant_external_ref_idx" ON "incident"."incidents" USING btree ("tenant_id","external_ref");--> statement-breakpoint
CREATE INDEX "incident_outbox_tenant_txid_idx" ON "incident"."outbox" USING btree ("tenant_id","txid","position");--> statement-breakpoint
CREATE INDEX "incident_outbox_txid_idx" ON "incident"."outbox" USING btree ("txid","position");