-- Rounds (issue 10): in an exclusive run, the allocations of every other COMPLETED, not
-- superseded exclusive run of the same allocation run, whatever their creation order (rounds
-- are solved one at a time, so this is the state when the run was claimed). Non-exclusive
-- runs are what-ifs and count for no one. A worker allocated in several counted runs (rows
-- from before the rounds invariant) holds one seat, the latest.
CREATE TEMP TABLE earlier_round_allocations ON COMMIT DROP AS
SELECT DISTINCT ON (a.worker_mapping) a.worker_mapping, a.job_line
  FROM allocator_py_allocations a
  JOIN allocator_py_runs r ON r.id = a.run_id
 WHERE r.allocation_run_id = %(allocation_run)s AND r.is_exclusive AND r.status = 'COMPLETED'
   AND r.superseded_at IS NULL AND r.id <> %(run)s AND %(exclusive)s
 ORDER BY a.worker_mapping, r.completed_at DESC NULLS LAST, r.created_at DESC
