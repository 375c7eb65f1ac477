-- The allocator's claim of one named run: queue/claim_id.sql, and not while another exclusive
-- run of its allocation run is GENERATING if it is exclusive (see queue/claim_allocator.sql).
UPDATE {table} AS r
   SET status = 'GENERATING', claimed_by = %(daemon)s, claimed_at = now(), heartbeat_at = now(),
       attempts = r.attempts + 1, progress = NULL, last_error = NULL
 WHERE r.id = (SELECT q.id FROM {table} AS q
                WHERE q.id = %(id)s AND q.status = 'PENDING'
                  AND NOT (q.is_exclusive AND EXISTS (
                          SELECT 1 FROM {table} AS g
                           WHERE g.allocation_run_id = q.allocation_run_id AND g.is_exclusive
                             AND g.status = 'GENERATING'))
                  FOR UPDATE OF q SKIP LOCKED)
RETURNING r.id, r.attempts
