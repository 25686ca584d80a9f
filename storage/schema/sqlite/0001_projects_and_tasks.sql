-- Projects, tasks and the settings table (page token secret).
-- STRICT tables refuse values of the wrong type instead of storing them.
-- Times are epoch microseconds (UTC); the defaults serve other writers, the
-- store sets them itself. AUTOINCREMENT: an id is never reused, so an old
-- etag can never match a new task.

CREATE TABLE settings (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) STRICT;

CREATE TABLE projects (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  description TEXT NOT NULL DEFAULT '',
  create_time INTEGER NOT NULL
    DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER)),
  update_time INTEGER NOT NULL
    DEFAULT (CAST((julianday('now') - 2440587.5) * 86400000000.0 AS INTEGER))
) STRICT;

-- Constraint names match db_error.h.
CREATE TABLE tasks (
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
  request_id TEXT NULL CONSTRAINT tasks_request_id_key UNIQUE,
  CONSTRAINT tasks_project_title_key UNIQUE (project_id, title)
) STRICT;

-- One index per list order, each ending in id for the keyset tie-break. The
-- (project_id, id) index also serves the cascade delete of a project; the
-- unique (project_id, title) constraint serves title order within a project.
CREATE INDEX tasks_project_idx ON tasks (project_id, id);
CREATE INDEX tasks_create_time_idx ON tasks (create_time, id);
CREATE INDEX tasks_priority_idx ON tasks (priority, id);
CREATE INDEX tasks_title_idx ON tasks (title, id);
