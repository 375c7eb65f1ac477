SELECT id FROM job_lines WHERE allocation_run = %(allocation_run)s ORDER BY sort_order, id
