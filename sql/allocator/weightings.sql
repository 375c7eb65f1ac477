SELECT w.preferencer, w.worker_mapping, w.job_line, w.weight::float8
  FROM allocation_run_preferencer_weightings w
  JOIN allocation_run_preferencers s ON s.id = w.preferencer
 WHERE s.allocation_run = %(allocation_run)s
   AND w.worker_mapping = ANY (%(workers)s::uuid[])
   AND (w.job_line IS NULL OR w.job_line = ANY (%(lines)s::uuid[]))
 ORDER BY w.preferencer, w.worker_mapping, w.job_line NULLS FIRST
