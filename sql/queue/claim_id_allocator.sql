-- The allocator's claim of one named run: queue/claim_id.sql, and, for an exclusive run (a
-- round), only when it is its allocation run's next round, as queue/claim_allocator.sql says:
-- no other round of it GENERATING, none PENDING before it in claim order. Solving a round
-- by name (`receptord allocate --allocator-run-id`) runs rounds in the same order as daemons.
UPDATE {table} AS r
   SET status = 'GENERATING', claimed_by = %(daemon)s, claimed_at = now(), heartbeat_at = now(),
       attempts = r.attempts + 1, progress = NULL, last_error = NULL
 WHERE r.id = (SELECT q.id FROM {table} AS q
                WHERE q.id = %(id)s AND q.status = 'PENDING'
                  AND NOT {round_is_blocked}
                  FOR UPDATE OF q SKIP LOCKED)
RETURNING r.id, r.attempts
