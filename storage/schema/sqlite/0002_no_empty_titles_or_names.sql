-- No empty titles or project names. SQLite cannot add a CHECK to an existing
-- table, and rebuilding `projects` would cascade-delete every task under
-- foreign_keys = ON, so triggers enforce it, failing like a CHECK constraint
-- of that name (db_error.h maps both alike).

CREATE TRIGGER tasks_title_not_empty_insert BEFORE INSERT ON tasks
WHEN length(NEW.title) = 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: tasks_title_not_empty'); END;

CREATE TRIGGER tasks_title_not_empty_update BEFORE UPDATE OF title ON tasks
WHEN length(NEW.title) = 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: tasks_title_not_empty'); END;

CREATE TRIGGER projects_name_not_empty_insert BEFORE INSERT ON projects
WHEN length(NEW.name) = 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: projects_name_not_empty'); END;

CREATE TRIGGER projects_name_not_empty_update BEFORE UPDATE OF name ON projects
WHEN length(NEW.name) = 0
BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: projects_name_not_empty'); END;
