-- GiST indexes over (tenant_id, planned_range) need btree operator classes for uuid.
-- Another subgraph's migrations may create the extension at the same moment on a shared database;
-- the loser of that race sees unique_violation (or duplicate_object) and the extension exists anyway.
DO $$
BEGIN
  CREATE EXTENSION IF NOT EXISTS btree_gist;
EXCEPTION
  WHEN unique_violation OR duplicate_object THEN NULL;
END
$$;
