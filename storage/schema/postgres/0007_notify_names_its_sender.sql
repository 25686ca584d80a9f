-- A numbering run's NOTIFY names its sender, the server whose
-- SequenceChanges ran it: a server's change feed reads right after its own
-- runs, so it skips its own notifications and wakes for other servers'
-- only. Without that, a feed woken by its own NOTIFY read again every
-- millisecond under writes even when none of its streams could see them.
-- The one-argument form (servers of the previous version) stays, sending
-- no sender, which every server heeds.
CREATE FUNCTION number_task_changes(most integer, sender text) RETURNS bigint
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
    PERFORM pg_notify('task_changes', sender);
  END IF;
  RETURN numbered;
END
$$;

CREATE OR REPLACE FUNCTION number_task_changes(most integer) RETURNS bigint
LANGUAGE sql AS $$ SELECT number_task_changes(most, '') $$;
