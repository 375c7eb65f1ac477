INSERT INTO job_lines (allocation_run, name, sort_order, max_n_workers, planner_run, pathway)
VALUES (%(allocation_run)s, %(name)s, %(sort_order)s, 1, %(run)s, %(pathway)s)
RETURNING id
