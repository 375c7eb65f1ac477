-- Claim one named run (foreground `receptord allocate/plan --...-run-id`), exactly as a
-- daemon would: only if it is PENDING and no daemon is claiming it this instant.
UPDATE {table} AS r
   SET status = 'GENERATING', claimed_by = %(daemon)s, claimed_at = now(), heartbeat_at = now(),
       attempts = r.attempts + 1, progress = NULL, last_error = NULL
 WHERE r.id = (SELECT id FROM {table} WHERE id = %(id)s AND status = 'PENDING' FOR UPDATE SKIP LOCKED)
RETURNING r.id, r.attempts
