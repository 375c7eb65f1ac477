-- DBA views: each answers one question in one SELECT. See docs/dba.md.

-- Both queues as one relation with common column names.
CREATE VIEW receptord_runs AS
    SELECT 'allocator'::text AS kind, id, allocation_run_id AS allocation_run, status, priority,
           created_at, claimed_by, claimed_at, heartbeat_at, attempts, max_attempts,
           completed_at, last_error, progress, result_metadata
      FROM allocator_py_runs
    UNION ALL
    SELECT 'planner', id, allocation_run, status, priority,
           createdat, claimed_by, claimed_at, heartbeat_at, attempts, max_attempts,
           completed_at, last_error, progress, result_metadata
      FROM allocation_planner_runs;

-- What is queued: depth and age of the oldest pending run, per kind.
CREATE VIEW receptord_queue AS
    SELECT k.kind,
           count(r.id) FILTER (WHERE r.status = 'PENDING')    AS pending,
           count(r.id) FILTER (WHERE r.status = 'GENERATING') AS running,
           now() - min(r.created_at) FILTER (WHERE r.status = 'PENDING') AS oldest_pending_age
      FROM (VALUES ('allocator'), ('planner')) AS k(kind)
      LEFT JOIN receptord_runs r ON r.kind = k.kind AND r.status IN ('PENDING', 'GENERATING')
     GROUP BY k.kind;

-- What is running, where, since when, how fresh its heartbeat is, and how far it has got.
CREATE VIEW receptord_running AS
    SELECT r.kind, r.id, r.allocation_run, r.claimed_by, r.claimed_at,
           now() - r.claimed_at   AS running_for,
           now() - r.heartbeat_at AS heartbeat_age,
           r.attempts, r.max_attempts, r.progress,
           d.name IS NOT NULL AND d.heartbeat_at > now() - interval '1 minute' AS daemon_alive
      FROM receptord_runs r
      LEFT JOIN receptord_daemons d ON d.name = r.claimed_by
     WHERE r.status = 'GENERATING';

-- What failed and why (INFEASIBLE carries its diagnosis too), newest first.
CREATE VIEW receptord_failures AS
    SELECT kind, id, allocation_run, status, completed_at, attempts, last_error
      FROM receptord_runs
     WHERE status IN ('FAILED', 'INFEASIBLE')
     ORDER BY completed_at DESC NULLS LAST;

-- Throughput and solve-time percentiles (claim to finish of the final attempt).
CREATE VIEW receptord_throughput AS
    SELECT w.label AS period, r.kind,
           count(*) AS finished,
           count(*) FILTER (WHERE r.status = 'COMPLETED')  AS completed,
           count(*) FILTER (WHERE r.status = 'INFEASIBLE') AS infeasible,
           count(*) FILTER (WHERE r.status = 'FAILED')     AS failed,
           percentile_cont(0.5)  WITHIN GROUP (ORDER BY extract(epoch FROM r.completed_at - r.claimed_at)) AS p50_seconds,
           percentile_cont(0.95) WITHIN GROUP (ORDER BY extract(epoch FROM r.completed_at - r.claimed_at)) AS p95_seconds
      FROM (VALUES ('last hour', interval '1 hour'), ('last day', interval '1 day')) AS w(label, span)
      JOIN receptord_runs r
        ON r.completed_at > now() - w.span AND r.status IN ('COMPLETED', 'INFEASIBLE', 'FAILED')
     GROUP BY w.label, w.span, r.kind
     ORDER BY w.span, r.kind;

-- Which daemons are alive (heartbeat within a minute) and what they are doing.
CREATE VIEW receptord_live_daemons AS
    SELECT name, host, pid, version, state, slots, in_flight, started_at,
           now() - heartbeat_at AS heartbeat_age
      FROM receptord_daemons
     WHERE state <> 'stopped' AND heartbeat_at > now() - interval '1 minute'
     ORDER BY name;

-- What is stuck and why: one query for the on-call engineer.
CREATE VIEW receptord_stuck AS
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
