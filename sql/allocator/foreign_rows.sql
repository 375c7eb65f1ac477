-- Rows that tie this allocation run to another one: preferences, weightings or eligibility
-- naming lines or workers outside the run (SPEC §8). Reported, never silently ignored. (An
-- eligibility id that names no worker mapping at all, one deleted since, is left alone.)
-- The two preference tables, the large ones, are filtered on run_ids.sql's arrays (see there);
-- the workers' preferences only when %(preferences)s: worker_prefs.sql counts those rows in
-- its own pass over the table, and this query names them only if there are some.
SELECT 'preference of worker mapping ' || p.worker_mapping || ' for job line ' || p.job_line
       || ' of allocation run ' || j.allocation_run
  FROM preference_worker_job_lines p
  JOIN job_lines j ON j.id = p.job_line
 WHERE %(preferences)s
   AND p.worker_mapping = ANY (%(run_workers)s::uuid[]) AND p.job_line <> ALL (%(run_lines)s::uuid[])
UNION ALL
SELECT 'preferencer ' || p.preferencer || ' ranks worker mapping ' || p.worker_mapping
       || ' of allocation run ' || m.allocation_run
  FROM preference_preferencer_workers p
  JOIN allocation_run_worker_mappings m ON m.id = p.worker_mapping
 WHERE p.preferencer = ANY (%(run_preferencers)s::uuid[]) AND p.worker_mapping <> ALL (%(run_workers)s::uuid[])
UNION ALL
SELECT 'weighting ' || w.id || ' names a worker mapping or job line of another allocation run'
  FROM allocation_run_preferencer_weightings w
  JOIN allocation_run_preferencers s ON s.id = w.preferencer
  JOIN allocation_run_worker_mappings m ON m.id = w.worker_mapping
  LEFT JOIN job_lines j ON j.id = w.job_line
 WHERE s.allocation_run = %(allocation_run)s
   AND (m.allocation_run <> %(allocation_run)s OR j.allocation_run <> %(allocation_run)s)
UNION ALL
SELECT 'job line ' || j.id || ' (' || j.name || ') has preferencer ' || s.id
       || ' of allocation run ' || s.allocation_run
  FROM job_line_preferencers lp
  JOIN job_lines j ON j.id = lp.job_line
  JOIN allocation_run_preferencers s ON s.id = lp.preferencer
 WHERE j.allocation_run = %(allocation_run)s AND s.allocation_run <> %(allocation_run)s
UNION ALL
SELECT 'job line ' || j.id || ' (' || j.name || ') names worker mappings of another allocation run in '
       || c.col || ': ' || array_to_string(f.ids[1:3], ', ')
       || CASE WHEN cardinality(f.ids) > 3 THEN ' and ' || (cardinality(f.ids) - 3) || ' more' ELSE '' END
  FROM job_lines j
  JOIN job_line_eligibility e ON e.job_line = j.id
 CROSS JOIN LATERAL (VALUES ('included_worker_mapping_ids', e.included_worker_mapping_ids),
                            ('excluded_worker_mapping_ids', e.excluded_worker_mapping_ids)) AS c (col, ids)
 CROSS JOIN LATERAL (SELECT array_agg(m.id ORDER BY m.id) AS ids
                       FROM allocation_run_worker_mappings m
                      WHERE m.id = ANY (c.ids) AND m.allocation_run <> %(allocation_run)s) AS f
 WHERE j.allocation_run = %(allocation_run)s AND f.ids IS NOT NULL
LIMIT 20
