-- The run's ranks and weights that a double-precision float cannot hold (SPEC §8): numeric
-- takes 1e400 or 1e-400, but the load reads these columns as float8 and PostgreSQL refuses
-- such a cast. Run only after it did, to name the rows. Every value the cast refuses lies
-- outside the bounds below (the largest double, the smallest normal one); NaN and ±Infinity
-- cast fine and are left to the validator. Same rows as worker_prefs, preferencer_prefs and
-- weightings.sql; the first 10, and how many in all.
WITH named AS (
    SELECT 1 AS k, 'preference_worker_job_lines.rank' AS col, rank AS value,
           'worker mapping ' || worker_mapping || ', job line ' || job_line AS row_name,
           worker_mapping AS a, job_line AS b
      FROM preference_worker_job_lines
     WHERE worker_mapping = ANY (%(workers)s::uuid[]) AND job_line = ANY (%(lines)s::uuid[])
    UNION ALL
    SELECT 2, 'preference_preferencer_workers.rank', rank,
           'preferencer ' || preferencer || ', worker mapping ' || worker_mapping,
           preferencer, worker_mapping
      FROM preference_preferencer_workers
     WHERE preferencer = ANY (%(preferencers)s::uuid[]) AND worker_mapping = ANY (%(workers)s::uuid[])
    UNION ALL
    SELECT 3, 'allocation_run_preferencer_weightings.weight', w.weight,
           'weighting ' || w.id || ': preferencer ' || w.preferencer || ', worker mapping ' || w.worker_mapping
           || ', ' || coalesce('job line ' || w.job_line, 'every job line'),
           w.id, NULL
      FROM allocation_run_preferencer_weightings w
      JOIN allocation_run_preferencers s ON s.id = w.preferencer
     WHERE s.allocation_run = %(allocation_run)s
       AND w.worker_mapping = ANY (%(workers)s::uuid[])
       AND (w.job_line IS NULL OR w.job_line = ANY (%(lines)s::uuid[]))
)
SELECT col, value, row_name, count(*) OVER ()
  FROM named
 WHERE (abs(value) > 1.7976931348623157e308 AND abs(value) < 'Infinity')  -- NaN is above Infinity
    OR (abs(value) < 2.2250738585072014e-308 AND value <> 0)
 ORDER BY k, a, b
 LIMIT 10
