-- Claim the next pending run of one kind: highest priority, then oldest. SKIP LOCKED lets
-- any number of daemons claim concurrently without waiting on each other or double-claiming.
WITH next AS (
    SELECT id FROM {table}
     WHERE status = 'PENDING'
     ORDER BY priority DESC, {created}
     LIMIT 1
       FOR UPDATE SKIP LOCKED
)
UPDATE {table} AS r
   SET status = 'GENERATING', claimed_by = %(daemon)s, claimed_at = now(), heartbeat_at = now(),
       attempts = r.attempts + 1, progress = NULL, last_error = NULL
  FROM next
 WHERE r.id = next.id
RETURNING r.id, r.attempts
