-- Display names of the run's worker mappings, for exported workbooks.
SELECT m.id, w.name
  FROM allocation_run_worker_mappings m
  JOIN workers w ON w.id = m.worker
 WHERE m.allocation_run = %(allocation_run)s
