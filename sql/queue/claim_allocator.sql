-- The allocator's claim: queue/claim.sql, less the exclusive runs (rounds) of an allocation
-- run whose other exclusive run is GENERATING, which are skipped: the next claimable run is
-- taken instead, and a blocked round stays PENDING until the running one ends (then the
-- daemon that finished it claims again as its slot frees; others at their next poll). The unique
-- index allocator_py_runs_one_exclusive_idx (0010) is the guarantee, and the index of the
-- NOT EXISTS; a claim that loses a race to it is "nothing claimable now" (daemon/runs.py).
WITH next AS (
    SELECT q.id FROM {table} AS q
     WHERE q.status = 'PENDING'
       AND NOT (q.is_exclusive AND EXISTS (
               SELECT 1 FROM {table} AS g
                WHERE g.allocation_run_id = q.allocation_run_id AND g.is_exclusive AND g.status = 'GENERATING'))
     ORDER BY q.priority DESC, q.{created}
     LIMIT 1
       FOR UPDATE OF q SKIP LOCKED
)
UPDATE {table} AS r
   SET status = 'GENERATING', claimed_by = %(daemon)s, claimed_at = now(), heartbeat_at = now(),
       attempts = r.attempts + 1, progress = NULL, last_error = NULL
  FROM next
 WHERE r.id = next.id
RETURNING r.id, r.attempts
