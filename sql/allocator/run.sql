SELECT r.allocation_run_id, r.included_job_lines, r.included_worker_mappings, r.is_exclusive,
       r.config::text, a.id IS NOT NULL AS allocation_run_exists
  FROM allocator_py_runs r
  LEFT JOIN allocationruns a ON a.id = r.allocation_run_id
 WHERE r.id = %(run)s
