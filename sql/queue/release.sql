-- Give a claimed run back to the queue. %(refund)s returns the attempt (a clean shutdown is
-- not the run's fault); a crashed solver process keeps it counted, so a run that crashes
-- every time ends FAILED at max_attempts instead of looping forever.
UPDATE {table}
   SET status = CASE WHEN attempts - %(refund)s::int >= max_attempts THEN 'FAILED' ELSE 'PENDING' END::run_status,
       attempts = attempts - %(refund)s::int,
       claimed_by = NULL, claimed_at = NULL, heartbeat_at = NULL, progress = NULL,
       completed_at = CASE WHEN attempts - %(refund)s::int >= max_attempts THEN now() END,
       last_error = CASE WHEN attempts - %(refund)s::int >= max_attempts
                         THEN %(reason)s || '; gave up after ' || attempts || ' attempts'
                         ELSE %(reason)s END
 WHERE id = %(id)s AND status = 'GENERATING' AND claimed_by = %(daemon)s AND attempts = %(attempts)s
RETURNING status
