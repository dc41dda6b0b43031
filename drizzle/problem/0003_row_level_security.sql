-- Row-level security: the second wall behind every query's tenant filter. Request handlers run
-- each statement as the role itsm_app with app.tenant_id set (kit db.ts forTenant); these policies
-- then refuse every row of another tenant. The owner (migrations, background workers) bypasses them.
DO $$ BEGIN
  CREATE ROLE itsm_app NOLOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;
--> statement-breakpoint
DO $$ BEGIN
  EXECUTE format('GRANT itsm_app TO %I', current_user);
EXCEPTION WHEN OTHERS THEN NULL; -- already a member, or a superuser (who may SET ROLE anyway)
END $$;
--> statement-breakpoint
GRANT USAGE ON SCHEMA "problem" TO itsm_app;
--> statement-breakpoint
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "problem" TO itsm_app;
--> statement-breakpoint
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA "problem" TO itsm_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA "problem" GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO itsm_app;
--> statement-breakpoint
ALTER DEFAULT PRIVILEGES IN SCHEMA "problem" GRANT USAGE, SELECT ON SEQUENCES TO itsm_app;
--> statement-breakpoint
DO $$
DECLARE t record;
BEGIN
  FOR t IN
    SELECT c.table_name FROM information_schema.columns c
    JOIN information_schema.tables tb ON tb.table_schema = c.table_schema AND tb.table_name = c.table_name AND tb.table_type = 'BASE TABLE'
    WHERE c.table_schema = 'problem' AND c.column_name = 'tenant_id'
  LOOP
    EXECUTE format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', 'problem', t.table_name);
    EXECUTE format('DROP POLICY IF EXISTS tenant_isolation ON %I.%I', 'problem', t.table_name);
    EXECUTE format(
      'CREATE POLICY tenant_isolation ON %I.%I USING (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid) WITH CHECK (tenant_id = nullif(current_setting(''app.tenant_id'', true), '''')::uuid)',
      'problem', t.table_name);
  END LOOP;
END $$;
