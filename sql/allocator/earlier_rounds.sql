-- Exclusive rounds: each worker's latest allocation among the COMPLETED allocator runs of the
-- same allocation run created before this one. A worker allocated in several earlier runs
-- (reruns) holds one seat, the latest.
CREATE TEMP TABLE earlier_round_allocations ON COMMIT DROP AS
SELECT DISTINCT ON (a.worker_mapping) a.worker_mapping, a.job_line
  FROM allocator_py_allocations a
  JOIN allocator_py_runs r ON r.id = a.run_id
 WHERE r.allocation_run_id = %(allocation_run)s AND r.status = 'COMPLETED'
   AND r.id <> %(run)s AND r.created_at < %(created_at)s AND %(exclusive)s
 ORDER BY a.worker_mapping, r.created_at DESC
