-- Projects, tasks and the settings table (page token secret).
-- Times are epoch microseconds (UTC), as on SQLite; the defaults serve other
-- writers, the store sets them itself. Titles compare bytewise (COLLATE "C")
-- so that title order agrees with SQLite's.

CREATE TABLE settings (
  name text PRIMARY KEY,
  value text NOT NULL
);

CREATE TABLE projects (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name text NOT NULL,
  description text NOT NULL DEFAULT '',
  create_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  update_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint
);

-- Constraint names match db_error.h.
CREATE TABLE tasks (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  project_id bigint NULL
    CONSTRAINT tasks_project_fk REFERENCES projects (id) ON DELETE CASCADE,
  title text COLLATE "C" NOT NULL,
  description text NOT NULL DEFAULT '',
  status integer NOT NULL DEFAULT 1
    CONSTRAINT tasks_status_valid CHECK (status IN (1, 2, 3)),
  priority integer NOT NULL DEFAULT 2
    CONSTRAINT tasks_priority_valid CHECK (priority IN (1, 2, 3)),
  metadata jsonb NOT NULL DEFAULT '{}'
    CONSTRAINT tasks_metadata_object CHECK (jsonb_typeof(metadata) = 'object'),
  create_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  update_time bigint NOT NULL
    DEFAULT (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
  revision bigint NOT NULL DEFAULT 1,
  request_id text NULL CONSTRAINT tasks_request_id_key UNIQUE,
  CONSTRAINT tasks_project_title_key UNIQUE (project_id, title)
);

-- One index per list order, each ending in id for the keyset tie-break. The
-- (project_id, id) index also serves the cascade delete of a project; the
-- unique (project_id, title) constraint serves title order within a project.
CREATE INDEX tasks_project_idx ON tasks (project_id, id);
CREATE INDEX tasks_create_time_idx ON tasks (create_time, id);
CREATE INDEX tasks_priority_idx ON tasks (priority, id);
CREATE INDEX tasks_title_idx ON tasks (title, id);
