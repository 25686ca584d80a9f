-- request_id is unique per idempotency scope, not in the whole table, and
-- each create with one records its draft's fingerprint. SQLite cannot drop a
-- UNIQUE constraint, so the table is rebuilt
-- (https://sqlite.org/lang_altertable.html#otheralter) with version 1's
-- columns and constraints, then the new ones; existing rows keep their ids
-- and go to the shared scope ''. Dropping the old table drops its indexes and
-- triggers, which are made again, and its AUTOINCREMENT counter, which is
-- carried over so that no id of a deleted task comes back.

CREATE TABLE tasks_v3 (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  project_id INTEGER NULL
    CONSTRAINT tasks_project_fk REFERENCES projects (id) ON DELETE CASCADE,
  title TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  status INTEGER NOT NULL DEFAULT 1
    CONSTRAINT tasks_status_valid CHECK (status IN (1, 2, 3)),
  priority INTEGER NOT NULL DEFAULT 2
    CONSTRAINT tasks_priority_valid CHECK (priority IN (1, 2, 3)),
  metadata TEXT NOT NULL DEFAULT '{}'
    CONSTRAINT tasks_metadata_object
    CHECK (json_valid(metadata) AND json_type(metadata) = 'object'),
  create_time INTEGER NOT NULL
    DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
  update_time INTEGER NOT NULL
    DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
  revision INTEGER NOT NULL DEFAULT 1,
  request_id TEXT NULL,
  idempotency_scope TEXT NOT NULL DEFAULT '',
  request_fingerprint TEXT NULL,
  CONSTRAINT tasks_project_title_key UNIQUE (project_id, title),
  CONSTRAINT tasks_scope_request_id_key UNIQUE (idempotency_scope, request_id)
) STRICT;

INSERT INTO tasks_v3 (id, project_id, title, description, status, priority,
                      metadata, create_time, update_time, revision, request_id)
SELECT id, project_id, title, description, status, priority, metadata,
       create_time, update_time, revision, request_id
FROM tasks;

-- The copy set tasks_v3's counter to its largest id; the old table's counter
-- is higher when its last tasks were deleted.
DELETE FROM sqlite_sequence WHERE name = 'tasks_v3';
INSERT INTO sqlite_sequence (name, seq)
SELECT 'tasks_v3', seq FROM sqlite_sequence WHERE name = 'tasks';

DROP TABLE tasks;
ALTER TABLE tasks_v3 RENAME TO tasks;

-- Version 1's indexes and version 2's task triggers, as they were.
CREATE INDEX tasks_project_idx ON tasks (project_id, id);
CREATE INDEX tasks_create_time_idx ON tasks (create_time, id);
CREATE INDEX tasks_priority_idx ON tasks (priority, id);
CREATE INDEX tasks_title_idx ON tasks (title, id);

CREATE TRIGGER tasks_title_not_empty_insert BEFORE INSERT ON tasks
WHEN length(NEW.title) = 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: tasks_title_not_empty'); END;

CREATE TRIGGER tasks_title_not_empty_update BEFORE UPDATE OF title ON tasks
WHEN length(NEW.title) = 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: tasks_title_not_empty'); END;
