-- Reclaim runs whose daemon stopped heartbeating: back to PENDING while attempts remain,
-- else FAILED. Liveness, not wall-clock: a long solve with a fresh heartbeat is never reaped.
-- SKIP LOCKED: a row locked by a committing daemon is about to be finished, not stale.
--
-- A database restart is nobody's fault but the outage's: the lease clock restarts with the
-- server (every holder gets a full lease to reconnect and renew), and a run whose holder went
-- quiet before the restart is handed back with its attempt refunded, so an outage (or a
-- daemon stopped during one, unable to hand its runs back) never burns attempts.
WITH stale AS (
    SELECT id, (heartbeat_at < pg_postmaster_start_time())::int AS refund
      FROM {table}
     WHERE status = 'GENERATING'
       AND greatest(heartbeat_at, pg_postmaster_start_time()) < now() - make_interval(secs => %(lease)s)
       FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS r
   SET attempts = r.attempts - stale.refund,
       status = CASE WHEN r.attempts - stale.refund >= r.max_attempts THEN 'FAILED' ELSE 'PENDING' END::run_status,
       completed_at = CASE WHEN r.attempts - stale.refund >= r.max_attempts THEN now() END,
       last_error = 'lease expired: ' || coalesce(r.claimed_by, '?') || ' sent no heartbeat for '
                    || %(lease)s || ' s (daemon killed, host lost or database unreachable)'
                    || CASE WHEN stale.refund = 1 THEN '; the database restarted meanwhile, attempt not counted'
                            ELSE '' END
                    || CASE WHEN r.attempts - stale.refund >= r.max_attempts
                            THEN '; gave up after ' || r.attempts || ' attempts' ELSE '' END,
       claimed_by = NULL, claimed_at = NULL, heartbeat_at = NULL, progress = NULL
  FROM stale
 WHERE r.id = stale.id
RETURNING r.id, r.status, r.attempts
