-- No empty titles or project names.

ALTER TABLE tasks ADD CONSTRAINT tasks_title_not_empty
  CHECK (length(title) > 0);

ALTER TABLE projects ADD CONSTRAINT projects_name_not_empty
  CHECK (length(name) > 0);
