CREATE TABLE "change"."cab_agenda_items" (
	"tenant_id" uuid NOT NULL,
	"meeting_id" uuid NOT NULL,
	"change_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"decision" text,
	"decided_at" timestamp with time zone,
	CONSTRAINT "cab_agenda_items_tenant_id_meeting_id_change_id_pk" PRIMARY KEY("tenant_id","meeting_id","change_id")
);
--> statement-breakpoint
CREATE TABLE "change"."cab_boards" (
	"tenant_id" uuid NOT NULL,
	"board" text NOT NULL,
	"mode" text NOT NULL,
	"quorum" integer,
	"approval_threshold" double precision NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL,
	CONSTRAINT "cab_boards_tenant_id_board_pk" PRIMARY KEY("tenant_id","board")
);
--> statement-breakpoint
CREATE TABLE "change"."cab_meetings" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"board" text NOT NULL,
	"title" text NOT NULL,
	"scheduled_at" timestamp with time zone NOT NULL,
	"state" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"closed_by" text,
	"closed_at" timestamp with time zone,
	CONSTRAINT "cab_meetings_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."cab_members" (
	"tenant_id" uuid NOT NULL,
	"board" text NOT NULL,
	"user_id" text NOT NULL,
	"name" text NOT NULL,
	"weight" double precision NOT NULL,
	"added_by" text NOT NULL,
	"added_at" timestamp with time zone NOT NULL,
	CONSTRAINT "cab_members_tenant_id_board_user_id_pk" PRIMARY KEY("tenant_id","board","user_id")
);
--> statement-breakpoint
CREATE TABLE "change"."cab_votes" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"meeting_id" uuid NOT NULL,
	"change_id" uuid NOT NULL,
	"member_id" text NOT NULL,
	"vote" text NOT NULL,
	"comment" text,
	"weight" double precision NOT NULL,
	"cast_at" timestamp with time zone NOT NULL,
	CONSTRAINT "cab_votes_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."change_approvals" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"change_id" uuid NOT NULL,
	"path" text NOT NULL,
	"meeting_id" uuid,
	"decision" text NOT NULL,
	"decided_by" text NOT NULL,
	"reason" text NOT NULL,
	"comment" text,
	"approve_weight" double precision,
	"reject_weight" double precision,
	"abstain_weight" double precision,
	"voters_count" integer,
	"decided_at" timestamp with time zone NOT NULL,
	CONSTRAINT "change_approvals_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."change_conflicts" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"change_id" uuid NOT NULL,
	"kind" text NOT NULL,
	"severity" text NOT NULL,
	"other_change_id" uuid,
	"window_id" uuid,
	"conflict_key" text NOT NULL,
	"message" text NOT NULL,
	"detected_at" timestamp with time zone NOT NULL,
	"resolved_at" timestamp with time zone,
	CONSTRAINT "change_conflicts_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."change_dependencies" (
	"tenant_id" uuid NOT NULL,
	"change_id" uuid NOT NULL,
	"depends_on_id" uuid NOT NULL,
	CONSTRAINT "change_dependencies_tenant_id_change_id_depends_on_id_pk" PRIMARY KEY("tenant_id","change_id","depends_on_id"),
	CONSTRAINT "change_dependencies_not_self_ck" CHECK (change_id <> depends_on_id)
);
--> statement-breakpoint
CREATE TABLE "change"."change_transitions" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"change_id" uuid NOT NULL,
	"from_state" text,
	"to_state" text NOT NULL,
	"actor_id" text NOT NULL,
	"comment" text,
	"occurred_at" timestamp with time zone NOT NULL,
	CONSTRAINT "change_transitions_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."change_windows" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"kind" text NOT NULL,
	"time_zone" text NOT NULL,
	"start_local" text NOT NULL,
	"duration_minutes" integer NOT NULL,
	"rrule" text,
	"scope_all" boolean NOT NULL,
	"configuration_items" text[] DEFAULT '{}'::text[] NOT NULL,
	"services" text[] DEFAULT '{}'::text[] NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"deleted_at" timestamp with time zone,
	CONSTRAINT "change_windows_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."risk_assessment_factors" (
	"tenant_id" uuid NOT NULL,
	"assessment_id" uuid NOT NULL,
	"factor" text NOT NULL,
	"score" integer NOT NULL,
	"weight" double precision NOT NULL,
	"justification" text NOT NULL,
	CONSTRAINT "risk_assessment_factors_tenant_id_assessment_id_factor_pk" PRIMARY KEY("tenant_id","assessment_id","factor")
);
--> statement-breakpoint
CREATE TABLE "change"."risk_assessments" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"change_id" uuid NOT NULL,
	"score" double precision NOT NULL,
	"level" text NOT NULL,
	"low_below" double precision NOT NULL,
	"medium_below" double precision NOT NULL,
	"assessed_by" text NOT NULL,
	"assessed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "risk_assessments_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
CREATE TABLE "change"."risk_policies" (
	"tenant_id" uuid PRIMARY KEY NOT NULL,
	"weights" jsonb NOT NULL,
	"low_below" double precision NOT NULL,
	"medium_below" double precision NOT NULL,
	"version" integer DEFAULT 1 NOT NULL,
	"updated_by" text NOT NULL,
	"updated_at" timestamp with time zone NOT NULL
);
--> statement-breakpoint
CREATE TABLE "change"."standard_change_templates" (
	"tenant_id" uuid NOT NULL,
	"id" uuid DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text,
	"implementation_plan" text NOT NULL,
	"backout_plan" text NOT NULL,
	"test_plan" text,
	"configuration_items" text[] DEFAULT '{}'::text[] NOT NULL,
	"services" text[] DEFAULT '{}'::text[] NOT NULL,
	"state" text NOT NULL,
	"created_by" text NOT NULL,
	"created_at" timestamp with time zone NOT NULL,
	"approved_by" text,
	"approved_at" timestamp with time zone,
	"version" integer DEFAULT 1 NOT NULL,
	CONSTRAINT "standard_change_templates_tenant_id_id_pk" PRIMARY KEY("tenant_id","id")
);
--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "template_id" uuid;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "implementation_plan" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "backout_plan" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "test_plan" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "configuration_items" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "services" text[] DEFAULT '{}'::text[] NOT NULL;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "assignee_id" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "planned_start" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "planned_end" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "planned_range" "tstzrange" GENERATED ALWAYS AS (tstzrange(planned_start, planned_end, '[)')) STORED;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "risk_level" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "risk_score" double precision;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "approval_path" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "approval_status" text DEFAULT 'NOT_REQUESTED' NOT NULL;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "close_code" text;--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD COLUMN "closed_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "change"."cab_agenda_items" ADD CONSTRAINT "cab_agenda_items_tenant_id_meeting_id_cab_meetings_tenant_id_id_fk" FOREIGN KEY ("tenant_id","meeting_id") REFERENCES "change"."cab_meetings"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."cab_agenda_items" ADD CONSTRAINT "cab_agenda_items_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."cab_votes" ADD CONSTRAINT "cab_votes_tenant_id_meeting_id_change_id_cab_agenda_items_tenant_id_meeting_id_change_id_fk" FOREIGN KEY ("tenant_id","meeting_id","change_id") REFERENCES "change"."cab_agenda_items"("tenant_id","meeting_id","change_id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_approvals" ADD CONSTRAINT "change_approvals_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_approvals" ADD CONSTRAINT "change_approvals_tenant_id_meeting_id_cab_meetings_tenant_id_id_fk" FOREIGN KEY ("tenant_id","meeting_id") REFERENCES "change"."cab_meetings"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_conflicts" ADD CONSTRAINT "change_conflicts_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_conflicts" ADD CONSTRAINT "change_conflicts_tenant_id_other_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","other_change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_conflicts" ADD CONSTRAINT "change_conflicts_tenant_id_window_id_change_windows_tenant_id_id_fk" FOREIGN KEY ("tenant_id","window_id") REFERENCES "change"."change_windows"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_dependencies" ADD CONSTRAINT "change_dependencies_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_dependencies" ADD CONSTRAINT "change_dependencies_tenant_id_depends_on_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","depends_on_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."change_transitions" ADD CONSTRAINT "change_transitions_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."risk_assessment_factors" ADD CONSTRAINT "risk_assessment_factors_tenant_id_assessment_id_risk_assessments_tenant_id_id_fk" FOREIGN KEY ("tenant_id","assessment_id") REFERENCES "change"."risk_assessments"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "change"."risk_assessments" ADD CONSTRAINT "risk_assessments_tenant_id_change_id_change_requests_tenant_id_id_fk" FOREIGN KEY ("tenant_id","change_id") REFERENCES "change"."change_requests"("tenant_id","id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "cab_agenda_items_tenant_change_idx" ON "change"."cab_agenda_items" USING btree ("tenant_id","change_id");--> statement-breakpoint
CREATE INDEX "cab_meetings_tenant_scheduled_idx" ON "change"."cab_meetings" USING btree ("tenant_id","scheduled_at");--> statement-breakpoint
CREATE UNIQUE INDEX "cab_votes_one_per_member_uq" ON "change"."cab_votes" USING btree ("tenant_id","meeting_id","change_id","member_id");--> statement-breakpoint
CREATE INDEX "cab_votes_tenant_change_idx" ON "change"."cab_votes" USING btree ("tenant_id","change_id","cast_at");--> statement-breakpoint
CREATE INDEX "change_approvals_tenant_change_idx" ON "change"."change_approvals" USING btree ("tenant_id","change_id","decided_at");--> statement-breakpoint
CREATE UNIQUE INDEX "change_conflicts_open_uq" ON "change"."change_conflicts" USING btree ("tenant_id","change_id","conflict_key") WHERE resolved_at is null;--> statement-breakpoint
CREATE INDEX "change_conflicts_tenant_other_idx" ON "change"."change_conflicts" USING btree ("tenant_id","other_change_id") WHERE resolved_at is null;--> statement-breakpoint
CREATE INDEX "change_conflicts_tenant_detected_idx" ON "change"."change_conflicts" USING btree ("tenant_id","detected_at") WHERE resolved_at is null;--> statement-breakpoint
CREATE INDEX "change_dependencies_tenant_depends_on_idx" ON "change"."change_dependencies" USING btree ("tenant_id","depends_on_id");--> statement-breakpoint
CREATE INDEX "change_transitions_tenant_change_idx" ON "change"."change_transitions" USING btree ("tenant_id","change_id","occurred_at");--> statement-breakpoint
CREATE INDEX "change_windows_tenant_idx" ON "change"."change_windows" USING btree ("tenant_id","kind");--> statement-breakpoint
CREATE INDEX "risk_assessments_tenant_change_idx" ON "change"."risk_assessments" USING btree ("tenant_id","change_id","assessed_at");--> statement-breakpoint
CREATE UNIQUE INDEX "standard_change_templates_tenant_name_uq" ON "change"."standard_change_templates" USING btree ("tenant_id","name");--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD CONSTRAINT "change_requests_tenant_id_template_id_standard_change_templates_tenant_id_id_fk" FOREIGN KEY ("tenant_id","template_id") REFERENCES "change"."standard_change_templates"("tenant_id","id") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "change_requests_tenant_state_idx" ON "change"."change_requests" USING btree ("tenant_id","state");--> statement-breakpoint
CREATE INDEX "change_requests_tenant_planned_range_gist" ON "change"."change_requests" USING gist ("tenant_id","planned_range");--> statement-breakpoint
ALTER TABLE "change"."change_requests" ADD CONSTRAINT "change_requests_planned_order_ck" CHECK ((planned_start is null) = (planned_end is null) and (planned_end is null or planned_end > planned_start));