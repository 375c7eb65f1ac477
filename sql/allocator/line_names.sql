-- Names of an allocation run's job lines (`receptord explain`).
SELECT id, name FROM job_lines WHERE allocation_run = %(allocation_run)s
