-- Numbering the change log (TaskStore::SequenceChanges) in one call, one
-- round trip: before, the lock, the numbering and the NOTIFY were a
-- statement each, inside BEGIN and COMMIT, five round trips per run, and
-- a server with watchers numbers every millisecond under writes.
--
-- Each statement of a VOLATILE function takes its own snapshot under READ
-- COMMITTED, so the numbering's snapshot is taken once the lock is granted:
-- every earlier run's numbers are in it, and the base is above all of them.
-- The lock (a key of its own; the migrations' is 7283510942) is held to the
-- end of the caller's transaction, the call's own when it runs alone.
-- NOTIFY once per run, not per write: see 0005.
CREATE FUNCTION number_task_changes(most integer) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  numbered bigint;
BEGIN
  PERFORM pg_advisory_xact_lock(7283510943);
  WITH changed AS (
    UPDATE task_changes AS c SET seq = n.base + n.place
    FROM (SELECT change_id,
                 row_number() OVER (ORDER BY change_id) AS place,
                 (SELECT max(known.seq)
                  FROM (SELECT max(seq) AS seq FROM task_changes
                        UNION ALL SELECT seq FROM task_change_horizon)
                       AS known) AS base
          FROM unnumbered_task_changes(most) AS change_id) AS n
    WHERE c.change_id = n.change_id
    RETURNING 1)
  SELECT count(*) INTO numbered FROM changed;
  IF numbered > 0 THEN
    PERFORM pg_notify('task_changes', '');
  END IF;
  RETURN numbered;
END
$$;
