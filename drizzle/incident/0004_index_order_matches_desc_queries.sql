DROP INDEX "incident"."incidents_tenant_opened_idx";--> statement-breakpoint
DROP INDEX "incident"."incidents_tenant_updated_idx";--> statement-breakpoint
DROP INDEX "incident"."incidents_tenant_priority_opened_idx";--> statement-breakpoint
DROP INDEX "incident"."incidents_tenant_major_idx";--> statement-breakpoint
CREATE INDEX "incidents_tenant_opened_idx" ON "incident"."incidents" USING btree ("tenant_id","opened_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "incidents_tenant_updated_idx" ON "incident"."incidents" USING btree ("tenant_id","updated_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "incidents_tenant_priority_opened_idx" ON "incident"."incidents" USING btree ("tenant_id","priority","opened_at" DESC NULLS FIRST,"id" DESC NULLS FIRST);--> statement-breakpoint
CREATE INDEX "incidents_tenant_major_idx" ON "incident"."incidents" USING btree ("tenant_id","opened_at" DESC NULLS FIRST) WHERE major;