SELECT worker_mapping, job_line, worker_rank::float8, dissatisfaction
  FROM allocator_py_allocations
 WHERE run_id = %(run)s
 ORDER BY worker_mapping
