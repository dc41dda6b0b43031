CREATE TABLE "problem"."consumer_cursors" (
	"consumer" text PRIMARY KEY NOT NULL,
	"cursor" text NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "problem"."known_error_incidents" (
	"tenant_id" uuid NOT NULL,
	"known_error_id" uuid NOT NULL,
	"incident_id" uuid NOT NULL,
	"linked_at" timestamp with time zone NOT NULL,
	CONSTRAINT "known_error_incidents_tenant_id_known_error_id_incident_id_pk" PRIMARY KEY("tenant_id","known_error_id","incident_id")
);
--> statement-breakpoint
CREATE TABLE "problem"."known_errors" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"number" text NOT NULL,
	"problem_id" uuid,
	"title" text NOT NULL,
	"description" text,
	"symptoms" text NOT NULL,
	"root_cause" text,
	"workaround" text,
	"permanent_fix" text,
	"active" boolean DEFAULT true NOT NULL,
	"workaround_communicated_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"search_vector" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, coalesce("title", '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce("symptoms", '')), 'A') || setweight(to_tsvector('english'::regconfig, coalesce("description", '')), 'B')) STORED NOT NULL,
	"match_text" text GENERATED ALWAYS AS (lower(coalesce("title", '') || ' ' || coalesce("symptoms", '') || ' ' || coalesce("description", ''))) STORED NOT NULL,
	CONSTRAINT "known_errors_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "problem"."observed_incidents" (
	"tenant_id" uuid NOT NULL,
	"incident_id" uuid NOT NULL,
	"number" text,
	"title" text NOT NULL,
	"description" text,
	"category" text,
	"subcategory" text,
	"configuration_item" text,
	"state" text,
	"priority" integer,
	"opened_at" timestamp with time zone NOT NULL,
	"event_cursor" text NOT NULL,
	CONSTRAINT "observed_incidents_tenant_id_incident_id_pk" PRIMARY KEY("tenant_id","incident_id")
);
--> statement-breakpoint
CREATE TABLE "problem"."problem_history" (
	"tenant_id" uuid NOT NULL,
	"id" bigint GENERATED ALWAYS AS IDENTITY (sequence name "problem"."problem_history_id_seq" INCREMENT BY 1 MINVALUE 1 MAXVALUE 9223372036854775807 START WITH 1 CACHE 1),
	"problem_id" uuid NOT NULL,
	"at" timestamp with time zone NOT NULL,
	"actor" text NOT NULL,
	"field" text NOT NULL,
	"from_value" text,
	"to_value" text,
	"reason" text,
	CONSTRAINT "problem_history_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "problem"."recurrence_cluster_members" (
	"tenant_id" uuid NOT NULL,
	"incident_id" uuid NOT NULL,
	"cluster_id" uuid NOT NULL,
	"joined_at" timestamp with time zone NOT NULL,
	CONSTRAINT "recurrence_cluster_members_tenant_id_incident_id_pk" PRIMARY KEY("tenant_id","incident_id")
);
--> statement-breakpoint
CREATE TABLE "problem"."recurrence_clusters" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"problem_id" uuid NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"basis" jsonb NOT NULL,
	CONSTRAINT "recurrence_clusters_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "problem"."recurrence_settings" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"enabled" boolean DEFAULT true NOT NULL,
	"threshold" integer NOT NULL,
	"window_days" integer NOT NULL,
	"min_similarity" double precision NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "problem"."problem_incidents" ADD COLUMN "occurred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "type" text DEFAULT 'REACTIVE' NOT NULL;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "origin" text DEFAULT 'MANUAL' NOT NULL;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "category" text;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "configuration_item" text;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "impact" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "urgency" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "priority" integer DEFAULT 3 NOT NULL;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "owner" text;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "root_cause" text;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "workaround" text;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "permanent_fix" text;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "incident_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "first_occurred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "last_occurred_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "resolved_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "problem"."problems" ADD COLUMN "closed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "problem"."known_error_incidents" ADD CONSTRAINT "known_error_incidents_tenant_id_known_error_id_known_errors_tenant_id_id_fk" FOREIGN KEY ("tenant_id","known_error_id") REFERENCES "problem"."known_errors"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "problem"."known_errors" ADD CONSTRAINT "known_errors_tenant_id_problem_id_problems_tenant_id_id_fk" FOREIGN KEY ("tenant_id","problem_id") REFERENCES "problem"."problems"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "problem"."problem_history" ADD CONSTRAINT "problem_history_tenant_id_problem_id_problems_tenant_id_id_fk" FOREIGN KEY ("tenant_id","problem_id") REFERENCES "problem"."problems"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "problem"."recurrence_cluster_members" ADD CONSTRAINT "recurrence_cluster_members_tenant_id_cluster_id_recurrence_clusters_tenant_id_id_fk" FOREIGN KEY ("tenant_id","cluster_id") REFERENCES "problem"."recurrence_clusters"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "problem"."recurrence_clusters" ADD CONSTRAINT "recurrence_clusters_tenant_id_problem_id_problems_tenant_id_id_fk" FOREIGN KEY ("tenant_id","problem_id") REFERENCES "problem"."problems"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "known_error_incidents_tenant_incident_idx" ON "problem"."known_error_incidents" USING btree ("tenant_id","incident_id");--> statement-breakpoint
CREATE UNIQUE INDEX "known_errors_tenant_number_uq" ON "problem"."known_errors" USING btree ("tenant_id","number");--> statement-breakpoint
CREATE INDEX "known_errors_tenant_problem_idx" ON "problem"."known_errors" USING btree ("tenant_id","problem_id");--> statement-breakpoint
CREATE INDEX "observed_incidents_tenant_category_idx" ON "problem"."observed_incidents" USING btree ("tenant_id","category","opened_at");--> statement-breakpoint
CREATE INDEX "observed_incidents_tenant_ci_idx" ON "problem"."observed_incidents" USING btree ("tenant_id","configuration_item","opened_at");--> statement-breakpoint
CREATE INDEX "problem_history_tenant_problem_idx" ON "problem"."problem_history" USING btree ("tenant_id","problem_id","id");--> statement-breakpoint
CREATE INDEX "recurrence_cluster_members_tenant_cluster_idx" ON "problem"."recurrence_cluster_members" USING btree ("tenant_id","cluster_id");--> statement-breakpoint
CREATE UNIQUE INDEX "recurrence_clusters_tenant_problem_uq" ON "problem"."recurrence_clusters" USING btree ("tenant_id","problem_id");