-- The change log (see storage/task_changes.h): every insert, update and
-- delete of a task, written by a trigger in the writing transaction, so every
-- write path (foreign-key cascades included) records its change with no code
-- of the store's. A row holds the task after the change (before it, for a
-- delete) in columns named as in `tasks`, read back through the same table
-- description (storage/schema/task_table.h).
--
-- A NEW COLUMN OF `tasks` (a new Task field) must be added here too, in a
-- later migration: to task_changes and to record_task_change() below
-- (task_store_changes_test fails until it is).
--
-- Neither change_id nor commit order agree here (a transaction that took id
-- 7 may commit after the one that took 8), so the trigger leaves seq NULL;
-- TaskStore::SequenceChanges numbers the committed changes later, one
-- replica at a time, and a run that numbered something sends NOTIFY
-- task_changes (waking WaitForChanges on every replica). Not the trigger: a
-- transaction that notified takes a database-wide lock at commit, which
-- would then serialize every write's commit.

CREATE TABLE task_changes (
  change_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  seq bigint NULL CONSTRAINT task_changes_seq_key UNIQUE,
  -- v1::TaskEvent::Type: 1 CREATED, 2 UPDATED, 3 DELETED.
  change_type integer NOT NULL CHECK (change_type IN (1, 2, 3)),
  change_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  id bigint NOT NULL,
  project_id bigint NULL,
  title text COLLATE "C" NOT NULL,
  description text NOT NULL,
  status integer NOT NULL,
  priority integer NOT NULL,
  metadata jsonb NOT NULL,
  due_time bigint NULL,
  create_time bigint NOT NULL,
  update_time bigint NOT NULL,
  revision bigint NOT NULL
);

-- The changes SequenceChanges has still to number, and the positions'
-- reflected ones.
CREATE INDEX task_changes_unnumbered_idx ON task_changes (change_id)
  WHERE seq IS NULL;

-- The unnumbered changes, in change_id order, at most `most`, in the
-- caller's snapshot (STABLE). Numbering a change leaves a dead entry in the
-- index above; a plain index scan marks such entries as it passes them, so
-- later scans skip them at the cost of an index page per few hundred. The
-- planner prefers a bitmap scan for so few rows, which instead visits the
-- heap page of every dead entry until VACUUM: 1.3 ms per 13,000 numbered
-- changes, on every ListTasks and every numbering run. ROWS: a few, as a
-- run finds (the default, 1,000, made the numbering join its changes by
-- hashing all of task_changes, a scan of the whole log per run).
CREATE FUNCTION unnumbered_task_changes(most integer) RETURNS SETOF bigint
LANGUAGE sql STABLE ROWS 10 SET enable_bitmapscan = off AS $$
  SELECT change_id FROM task_changes WHERE seq IS NULL
  ORDER BY change_id LIMIT most
$$;

-- Every numbering updates rows: vacuum after 1% of them are dead rather
-- than the default 20%, so that the dead entries above stay few.
ALTER TABLE task_changes SET (autovacuum_vacuum_scale_factor = 0.01,
                              autovacuum_analyze_scale_factor = 0.01);

-- One row: every change up to seq was trimmed (TrimChanges).
CREATE TABLE task_change_horizon (
  only_row integer PRIMARY KEY CHECK (only_row = 1),
  seq bigint NOT NULL
);
INSERT INTO task_change_horizon (only_row, seq) VALUES (1, 0);

CREATE FUNCTION record_task_change() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
  task tasks;
BEGIN
  IF TG_OP = 'DELETE' THEN
    task := OLD;
  ELSE
    task := NEW;
  END IF;
  INSERT INTO task_changes (change_type, id, project_id, title, description,
                            status, priority, metadata, due_time, create_time,
                            update_time, revision)
  VALUES (CASE TG_OP WHEN 'INSERT' THEN 1 WHEN 'UPDATE' THEN 2 ELSE 3 END,
          task.id, task.project_id, task.title, task.description, task.status,
          task.priority, task.metadata, task.due_time, task.create_time,
          task.update_time, task.revision);
  RETURN NULL;
END;
$$;

CREATE TRIGGER task_changes_record AFTER INSERT OR UPDATE OR DELETE ON tasks
FOR EACH ROW EXECUTE FUNCTION record_task_change();
