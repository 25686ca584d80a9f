-- request_id is unique per idempotency scope, not in the whole table, and
-- each create with one records its draft's fingerprint. Existing rows go to
-- the shared scope ''.

ALTER TABLE tasks
  ADD COLUMN idempotency_scope text NOT NULL DEFAULT '',
  ADD COLUMN request_fingerprint text NULL,
  DROP CONSTRAINT tasks_request_id_key,
  ADD CONSTRAINT tasks_scope_request_id_key
    UNIQUE (idempotency_scope, request_id);
