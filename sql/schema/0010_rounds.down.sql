-- Back to the state before 0010: the views as 0003 created them, no superseding, no index.

CREATE OR REPLACE VIEW receptord_stuck AS
    SELECT kind, id, status,
           CASE
             WHEN status = 'GENERATING' AND NOT EXISTS (
                  SELECT 1 FROM receptord_daemons d
                   WHERE d.name = r.claimed_by AND d.heartbeat_at > now() - interval '1 minute')
               THEN 'claimed by ' || claimed_by || ', which is not alive; a live daemon reclaims it when its lease expires'
             WHEN status = 'GENERATING'
               THEN 'no heartbeat for ' || date_trunc('second', now() - heartbeat_at) || ' from ' || claimed_by
             WHEN NOT EXISTS (SELECT 1 FROM receptord_live_daemons)
               THEN 'pending, and no daemon is alive'
             ELSE 'pending for ' || date_trunc('second', now() - created_at) || ' behind '
                  || (SELECT count(*) FROM receptord_runs q
                       WHERE q.status = 'PENDING' AND (q.priority > r.priority
                          OR (q.priority = r.priority AND q.created_at < r.created_at))) || ' runs'
           END AS why,
           claimed_by, heartbeat_at, created_at
      FROM receptord_runs r
     WHERE (status = 'GENERATING' AND heartbeat_at < now() - interval '30 seconds')
        OR (status = 'PENDING' AND created_at < now() - interval '5 minutes');

-- A view loses a column only by being dropped: its grant goes with it and comes back here.
DROP VIEW receptord_queue;
CREATE VIEW receptord_queue AS
    SELECT k.kind,
           count(r.id) FILTER (WHERE r.status = 'PENDING')    AS pending,
           count(r.id) FILTER (WHERE r.status = 'GENERATING') AS running,
           now() - min(r.created_at) FILTER (WHERE r.status = 'PENDING') AS oldest_pending_age
      FROM (VALUES ('allocator'), ('planner')) AS k(kind)
      LEFT JOIN receptord_runs r ON r.kind = k.kind AND r.status IN ('PENDING', 'GENERATING')
     GROUP BY k.kind;
GRANT SELECT ON receptord_queue TO receptord_daemon;

DROP VIEW receptord_waiting;

DROP FUNCTION supersede_run(uuid);
DROP TRIGGER allocator_py_runs_superseded ON allocator_py_runs;
DROP FUNCTION receptord_on_superseded();
DROP TRIGGER allocator_py_runs_supersede_guard ON allocator_py_runs;
DROP FUNCTION receptord_supersede_guard();
ALTER TABLE allocator_py_runs DROP CONSTRAINT apy_superseded_check;
ALTER TABLE allocator_py_runs DROP COLUMN superseded_at;

DROP INDEX allocator_py_runs_one_exclusive_idx;
