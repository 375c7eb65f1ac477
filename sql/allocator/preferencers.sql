SELECT id, name, max_job_lines, max_workers
  FROM allocation_run_preferencers
 WHERE allocation_run = %(allocation_run)s
 ORDER BY id
