SELECT w.name, j.name, a.worker_rank, round(a.dissatisfaction::numeric, 2)
  FROM allocator_py_allocations a
  JOIN allocation_run_worker_mappings m ON m.id = a.worker_mapping
  JOIN workers w ON w.id = m.worker
  JOIN job_lines j ON j.id = a.job_line
 WHERE a.run_id = %(run)s
 ORDER BY a.worker_rank NULLS LAST, w.name
