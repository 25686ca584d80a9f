-- The change log (see storage/task_changes.h): every insert, update and
-- delete of a task, written by triggers in the writing transaction, so every
-- write path (foreign-key cascades included) records its change with no code
-- of the store's. A row holds the task after the change (before it, for a
-- delete) in columns named as in `tasks`, read back through the same table
-- description (storage/schema/task_table.h).
--
-- A NEW COLUMN OF `tasks` (a new Task field) must be added here too, in a
-- later migration: to task_changes and to the three triggers below
-- (task_store_changes_test fails until it is).
--
-- seq orders the changes for readers. Writers take turns, so insert order is
-- commit order, and each change takes the next seq at once: one above the
-- largest so far, or above the horizon (the largest seq ever trimmed) once
-- every change was trimmed, so a seq is never given out twice.

CREATE TABLE task_changes (
  change_id INTEGER PRIMARY KEY AUTOINCREMENT,
  seq INTEGER NOT NULL CONSTRAINT task_changes_seq_key UNIQUE,
  -- v1::TaskEvent::Type: 1 CREATED, 2 UPDATED, 3 DELETED.
  change_type INTEGER NOT NULL CHECK (change_type IN (1, 2, 3)),
  change_time INTEGER NOT NULL,
  id INTEGER NOT NULL,
  project_id INTEGER NULL,
  title TEXT NOT NULL,
  description TEXT NOT NULL,
  status INTEGER NOT NULL,
  priority INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  due_time INTEGER NULL,
  create_time INTEGER NOT NULL,
  update_time INTEGER NOT NULL,
  revision INTEGER NOT NULL
) STRICT;

-- One row: every change up to seq was trimmed (TrimChanges).
CREATE TABLE task_change_horizon (
  only_row INTEGER PRIMARY KEY CHECK (only_row = 1),
  seq INTEGER NOT NULL
) STRICT;
INSERT INTO task_change_horizon (only_row, seq) VALUES (1, 0);

CREATE TRIGGER task_changes_on_insert AFTER INSERT ON tasks
BEGIN
  INSERT INTO task_changes (seq, change_type, change_time, id, project_id,
                            title, description, status, priority, metadata,
                            due_time, create_time, update_time, revision)
  SELECT max(coalesce((SELECT max(seq) FROM task_changes), 0), h.seq) + 1, 1,
         CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER),
         NEW.id, NEW.project_id, NEW.title, NEW.description, NEW.status,
         NEW.priority, NEW.metadata, NEW.due_time, NEW.create_time,
         NEW.update_time, NEW.revision
  FROM task_change_horizon AS h;
END;

CREATE TRIGGER task_changes_on_update AFTER UPDATE ON tasks
BEGIN
  INSERT INTO task_changes (seq, change_type, change_time, id, project_id,
                            title, description, status, priority, metadata,
                            due_time, create_time, update_time, revision)
  SELECT max(coalesce((SELECT max(seq) FROM task_changes), 0), h.seq) + 1, 2,
         CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER),
         NEW.id, NEW.project_id, NEW.title, NEW.description, NEW.status,
         NEW.priority, NEW.metadata, NEW.due_time, NEW.create_time,
         NEW.update_time, NEW.revision
  FROM task_change_horizon AS h;
END;

CREATE TRIGGER task_changes_on_delete AFTER DELETE ON tasks
BEGIN
  INSERT INTO task_changes (seq, change_type, change_time, id, project_id,
                            title, description, status, priority, metadata,
                            due_time, create_time, update_time, revision)
  SELECT max(coalesce((SELECT max(seq) FROM task_changes), 0), h.seq) + 1, 3,
         CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER),
         OLD.id, OLD.project_id, OLD.title, OLD.description, OLD.status,
         OLD.priority, OLD.metadata, OLD.due_time, OLD.create_time,
         OLD.update_time, OLD.revision
  FROM task_change_horizon AS h;
END;
