-- A run's explanations, per worker best-ranked line first (the CLI, exported workbooks).
SELECT worker_mapping, job_line, worker_rank, reason, delta, detail
  FROM allocator_py_explanations
 WHERE run_id = %(run)s
 ORDER BY worker_mapping, worker_rank, job_line
