SELECT r.allocation_run, r.n_job_lines, r.constraints, r.state, r.cohort, r.term_structure,
       r.leave_weeks, r.max_seconds, r.allow_partial_filling, a.id IS NOT NULL AS allocation_run_exists, r.pathways
  FROM allocation_planner_runs r
  LEFT JOIN allocationruns a ON a.id = r.allocation_run
 WHERE r.id = %(run)s
