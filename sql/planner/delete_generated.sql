DELETE FROM job_lines WHERE allocation_run = %(allocation_run)s AND planner_run IS NOT NULL
