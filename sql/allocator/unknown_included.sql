-- Ids in the run's included_* arrays that are not part of its allocation run.
SELECT 'worker mapping', x FROM unnest(%(included_workers)s::uuid[]) AS x
 WHERE x NOT IN (SELECT id FROM allocation_run_worker_mappings WHERE allocation_run = %(allocation_run)s)
UNION ALL
SELECT 'job line', x FROM unnest(%(included_lines)s::uuid[]) AS x
 WHERE x NOT IN (SELECT id FROM job_lines WHERE allocation_run = %(allocation_run)s)
