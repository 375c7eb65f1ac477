-- Reclaim runs whose daemon stopped heartbeating: back to PENDING while attempts remain,
-- else FAILED. Liveness, not wall-clock: a long solve with a fresh heartbeat is never reaped.
-- SKIP LOCKED: a row locked by a committing daemon is about to be finished, not stale.
WITH stale AS (
    SELECT id FROM {table}
     WHERE status = 'GENERATING' AND heartbeat_at < now() - make_interval(secs => %(lease)s)
       FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS r
   SET status = CASE WHEN r.attempts >= r.max_attempts THEN 'FAILED' ELSE 'PENDING' END::run_status,
       completed_at = CASE WHEN r.attempts >= r.max_attempts THEN now() END,
       last_error = 'lease expired: ' || coalesce(r.claimed_by, '?') || ' sent no heartbeat for '
                    || %(lease)s || ' s (daemon killed, host lost or database unreachable)'
                    || CASE WHEN r.attempts >= r.max_attempts
                            THEN '; gave up after ' || r.attempts || ' attempts' ELSE '' END,
       claimed_by = NULL, claimed_at = NULL, heartbeat_at = NULL, progress = NULL
  FROM stale
 WHERE r.id = stale.id
RETURNING r.id, r.status
