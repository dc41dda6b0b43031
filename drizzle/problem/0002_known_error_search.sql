-- Replicas and sibling subgraphs may migrate the same database at once; a concurrent
-- CREATE EXTENSION IF NOT EXISTS can still fail on the catalog's unique index, which means it exists.
DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS btree_gist; EXCEPTION WHEN unique_violation OR duplicate_object THEN NULL; END $$;
--> statement-breakpoint
DO $$ BEGIN CREATE EXTENSION IF NOT EXISTS pg_trgm; EXCEPTION WHEN unique_violation OR duplicate_object THEN NULL; END $$;
--> statement-breakpoint
-- GiST rather than GIN: btree_gist lets tenant_id lead the index (as in every index of this
-- schema) on both PostgreSQL and PGlite, which do not both load btree_gin.
CREATE INDEX "known_errors_tenant_search_idx" ON "problem"."known_errors" USING gist ("tenant_id", "search_vector");
--> statement-breakpoint
CREATE INDEX "known_errors_tenant_match_text_idx" ON "problem"."known_errors" USING gist ("tenant_id", "match_text" gist_trgm_ops);
--> statement-breakpoint
-- Links made before occurrence times were kept count from when they were linked.
UPDATE "problem"."problem_incidents" SET "occurred_at" = "linked_at" WHERE "occurred_at" IS NULL;
--> statement-breakpoint
UPDATE "problem"."problems" p
SET "incident_count" = l.n, "first_occurred_at" = l.first_at, "last_occurred_at" = l.last_at
FROM (
  SELECT "tenant_id", "problem_id", count(*)::int AS n, min("occurred_at") AS first_at, max("occurred_at") AS last_at
  FROM "problem"."problem_incidents"
  GROUP BY "tenant_id", "problem_id"
) l
WHERE p."tenant_id" = l."tenant_id" AND p."id" = l."problem_id";
