-- Task.due_time, epoch microseconds; NULL when the task has none.
ALTER TABLE tasks ADD COLUMN due_time INTEGER;

-- The two due_time orders sort a missing due time last, through the same
-- expressions as their queries (see TaskOrder::key_sql), so each has an index.
CREATE INDEX tasks_due_time_idx
    ON tasks (COALESCE(due_time, 9223372036854775807), id);
CREATE INDEX tasks_due_time_desc_idx
    ON tasks (COALESCE(due_time, -9223372036854775807), id);
