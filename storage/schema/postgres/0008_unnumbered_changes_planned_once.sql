-- unnumbered_task_changes (0005) in PL/pgSQL: the same query, the same
-- setting, in the caller's snapshot (STABLE), but its plan cached by the
-- connection (PL/pgSQL's plan cache: replanned after an ANALYZE of
-- task_changes, not on every call). As an SQL function with a SET clause,
-- which PostgreSQL never inlines, its body was parsed and planned on every
-- call: every ListTasks page (its change position) and every numbering run.
-- pgbench -M prepared -c 2, ListTasks' statement, four alternating rounds:
-- 4,807-5,600 statements/s before, 5,627-7,109 after.
CREATE OR REPLACE FUNCTION unnumbered_task_changes(most integer)
RETURNS SETOF bigint
LANGUAGE plpgsql STABLE ROWS 10 SET enable_bitmapscan = off AS $$
BEGIN
  RETURN QUERY SELECT change_id FROM task_changes WHERE seq IS NULL
               ORDER BY change_id LIMIT most;
END
$$;
