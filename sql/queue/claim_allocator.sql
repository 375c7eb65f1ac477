-- The allocator's claim: queue/claim.sql, where an exclusive run (a round) is claimable only
-- when it is its allocation run's next round: no other exclusive run of that allocation run is
-- GENERATING, and none still PENDING comes before it in claim order (priority, then creation,
-- then id). Without the second test a claim that skipped the next round because another
-- daemon held its row lock (SKIP LOCKED) could take a later round first, and the rounds would
-- run out of priority order. Blocked rounds stay PENDING (receptord_waiting says why); the
-- next claimable run is taken instead. The unique index allocator_py_runs_one_exclusive_idx
-- (0010) is the guarantee of one round at a time; a claim that loses a race to it is "nothing
-- claimable now" (daemon/runs.py).
WITH next AS (
    SELECT q.id FROM {table} AS q
     WHERE q.status = 'PENDING'
       AND NOT {round_is_blocked}
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
