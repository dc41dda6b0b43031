CREATE TABLE "incident"."business_calendars" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"time_zone" text NOT NULL,
	"kind" text NOT NULL,
	"working_hours" jsonb NOT NULL,
	"holidays" jsonb NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "business_calendars_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "incident"."sla_firings" (
	"tenant_id" uuid NOT NULL,
	"sla_id" uuid NOT NULL,
	"level" text NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	"fired_at" timestamp with time zone NOT NULL,
	CONSTRAINT "sla_firings_tenant_id_sla_id_level_pk" PRIMARY KEY("tenant_id","sla_id","level")
);
--> statement-breakpoint
CREATE TABLE "incident"."sla_policies" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"is_default" boolean DEFAULT false NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "sla_policies_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "incident"."sla_policy_targets" (
	"tenant_id" uuid NOT NULL,
	"policy_id" uuid NOT NULL,
	"priority" integer NOT NULL,
	"response_minutes" integer NOT NULL,
	"resolution_minutes" integer NOT NULL,
	"calendar_id" uuid NOT NULL,
	CONSTRAINT "sla_policy_targets_tenant_id_policy_id_priority_pk" PRIMARY KEY("tenant_id","policy_id","priority")
);
--> statement-breakpoint
CREATE TABLE "incident"."task_slas" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"incident_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"policy_id" uuid NOT NULL,
	"priority" integer NOT NULL,
	"calendar_id" uuid NOT NULL,
	"target_minutes" integer NOT NULL,
	"started_at" timestamp with time zone NOT NULL,
	"pauses" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"stopped_at" timestamp with time zone,
	"cancelled" boolean DEFAULT false NOT NULL,
	"stage" text NOT NULL,
	"due_at" timestamp with time zone,
	"warn_at" timestamp with time zone,
	"breached_at" timestamp with time zone,
	"escalation_level" integer DEFAULT 0 NOT NULL,
	"elapsed_working_minutes" double precision,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "task_slas_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "incident"."timers" (
	"tenant_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"subject_id" uuid NOT NULL,
	"level" text DEFAULT '' NOT NULL,
	"due_at" timestamp with time zone NOT NULL,
	CONSTRAINT "timers_tenant_id_kind_subject_id_level_pk" PRIMARY KEY("tenant_id","kind","subject_id","level")
);
--> statement-breakpoint
ALTER TABLE "incident"."incidents" ADD COLUMN "root_cause" text;--> statement-breakpoint
ALTER TABLE "incident"."incidents" ADD COLUMN "workaround" text;--> statement-breakpoint
ALTER TABLE "incident"."incidents" ADD COLUMN "priority_overridden" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "incident"."incidents" ADD COLUMN "category_keywords" text[];--> statement-breakpoint
ALTER TABLE "incident"."incidents" ADD COLUMN "search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, coalesce(title, '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce(description, '')), 'B')) STORED;--> statement-breakpoint
ALTER TABLE "incident"."tenant_settings" ADD COLUMN "taxonomy" jsonb;--> statement-breakpoint
ALTER TABLE "incident"."tenant_settings" ADD COLUMN "time_zone" text DEFAULT 'UTC' NOT NULL;--> statement-breakpoint
ALTER TABLE "incident"."tenant_settings" ADD COLUMN "auto_close_days" integer DEFAULT 7;--> statement-breakpoint
ALTER TABLE "incident"."sla_firings" ADD CONSTRAINT "sla_firings_tenant_id_sla_id_task_slas_tenant_id_id_fk" FOREIGN KEY ("tenant_id","sla_id") REFERENCES "incident"."task_slas"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident"."sla_policy_targets" ADD CONSTRAINT "sla_policy_targets_tenant_id_policy_id_sla_policies_tenant_id_id_fk" FOREIGN KEY ("tenant_id","policy_id") REFERENCES "incident"."sla_policies"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident"."sla_policy_targets" ADD CONSTRAINT "sla_policy_targets_tenant_id_calendar_id_business_calendars_tenant_id_id_fk" FOREIGN KEY ("tenant_id","calendar_id") REFERENCES "incident"."business_calendars"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident"."task_slas" ADD CONSTRAINT "task_slas_tenant_id_incident_id_incidents_tenant_id_id_fk" FOREIGN KEY ("tenant_id","incident_id") REFERENCES "incident"."incidents"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident"."task_slas" ADD CONSTRAINT "task_slas_tenant_id_policy_id_sla_policies_tenant_id_id_fk" FOREIGN KEY ("tenant_id","policy_id") REFERENCES "incident"."sla_policies"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "incident"."task_slas" ADD CONSTRAINT "task_slas_tenant_id_calendar_id_business_calendars_tenant_id_id_fk" FOREIGN KEY ("tenant_id","calendar_id") REFERENCES "incident"."business_calendars"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE UNIQUE INDEX "business_calendars_tenant_name_uq" ON "incident"."business_calendars" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "sla_policies_tenant_name_uq" ON "incident"."sla_policies" USING btree ("tenant_id","name");--> statement-breakpoint
CREATE UNIQUE INDEX "sla_policies_tenant_default_uq" ON "incident"."sla_policies" USING btree ("tenant_id") WHERE is_default;--> statement-breakpoint
CREATE INDEX "sla_policy_targets_tenant_calendar_idx" ON "incident"."sla_policy_targets" USING btree ("tenant_id","calendar_id");--> statement-breakpoint
CREATE UNIQUE INDEX "task_slas_tenant_incident_kind_uq" ON "incident"."task_slas" USING btree ("tenant_id","incident_id","kind");--> statement-breakpoint
CREATE INDEX "task_slas_tenant_calendar_running_idx" ON "incident"."task_slas" USING btree ("tenant_id","calendar_id") WHERE stopped_at is null;--> statement-breakpoint
CREATE INDEX "task_slas_tenant_policy_running_idx" ON "incident"."task_slas" USING btree ("tenant_id","policy_id") WHERE stopped_at is null;--> statement-breakpoint
CREATE INDEX "task_slas_tenant_stage_idx" ON "incident"."task_slas" USING btree ("tenant_id","stage","due_at");--> statement-breakpoint
CREATE INDEX "task_slas_tenant_stopped_idx" ON "incident"."task_slas" USING btree ("tenant_id","stopped_at");--> statement-breakpoint
CREATE INDEX "timers_due_idx" ON "incident"."timers" USING btree ("due_at");--> statement-breakpoint
CREATE INDEX "incidents_tenant_updated_idx" ON "incident"."incidents" USING btree ("tenant_id","updated_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "incidents_tenant_priority_opened_idx" ON "incident"."incidents" USING btree ("tenant_id","priority","opened_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "incidents_tenant_major_idx" ON "incident"."incidents" USING btree ("tenant_id","opened_at" DESC NULLS LAST) WHERE major;--> statement-breakpoint
CREATE INDEX "incidents_tenant_resolved_idx" ON "incident"."incidents" USING btree ("tenant_id","resolved_at");--> statement-breakpoint
CREATE INDEX "incidents_search_idx" ON "incident"."incidents" USING gin ("search");