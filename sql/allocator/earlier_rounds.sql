-- Rounds (issue 10): in an exclusive run, the allocations of every other COMPLETED, not
-- superseded exclusive run of the same allocation run, whatever their creation order (rounds
-- are solved one at a time, so this is the state when the run was claimed). Non-exclusive
-- runs are what-ifs and count for no one. A worker allocated in several counted runs (rows
-- from before the rounds invariant) holds one seat, the latest.
--
-- A run loaded again once it is itself COMPLETED (export, the checker) gets the input it was
-- solved with: only the rounds that had completed before it did, and were not superseded by
-- then. Later rounds never count for it. completed_at is now() of the finishing transaction
-- (sql/queue/finish.sql) and a round is claimed only once the one before it has committed its
-- finish, so an earlier round's completed_at is before this run's; superseded_at is now() of
-- supersede_run(). A hand-made COMPLETED row with no completed_at keeps the rule below.
CREATE TEMP TABLE earlier_round_allocations ON COMMIT DROP AS
SELECT DISTINCT ON (a.worker_mapping) a.worker_mapping, a.job_line
  FROM allocator_py_runs me
  JOIN allocator_py_runs r ON r.allocation_run_id = me.allocation_run_id
  JOIN allocator_py_allocations a ON a.run_id = r.id
 WHERE me.id = %(run)s AND r.allocation_run_id = %(allocation_run)s AND %(exclusive)s
   AND r.is_exclusive AND r.status = 'COMPLETED' AND r.id <> me.id
   AND CASE WHEN me.status = 'COMPLETED' AND me.completed_at IS NOT NULL
            THEN r.completed_at < me.completed_at
                 AND (r.superseded_at IS NULL OR r.superseded_at > me.completed_at)
            ELSE r.superseded_at IS NULL
       END
 ORDER BY a.worker_mapping, r.completed_at DESC NULLS LAST, r.created_at DESC
