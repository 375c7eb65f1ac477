-- Lines an earlier planner run generated for this allocation run that people already use:
-- ranked by workers or allocated. Replacing them would silently delete that work. Runs after
-- lock_generated.sql: the lines are locked, so nobody can start using one after this check.
SELECT j.name,
       (SELECT count(*) FROM preference_worker_job_lines p WHERE p.job_line = j.id) AS preferences,
       (SELECT count(*) FROM allocator_py_allocations a WHERE a.job_line = j.id) AS allocations
  FROM job_lines j
 WHERE j.allocation_run = %(allocation_run)s AND j.planner_run IS NOT NULL
   AND (EXISTS (SELECT 1 FROM preference_worker_job_lines p WHERE p.job_line = j.id)
        OR EXISTS (SELECT 1 FROM allocator_py_allocations a WHERE a.job_line = j.id))
 ORDER BY j.sort_order
 LIMIT 10
