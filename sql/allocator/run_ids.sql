-- Every worker mapping, job line and preferencer of the allocation run (included or not), as
-- arrays for foreign_rows.sql. Sent back as parameters they are constants, which PostgreSQL
-- tests with a hash table (`= ANY`, `<> ALL`) whatever its statistics say; a join to the same
-- tables, on rows imported moments ago and not yet analysed, ran as an index probe per
-- preference row (1.5 s for 2.25 M rows, against 0.15 s).
SELECT ARRAY(SELECT id FROM allocation_run_worker_mappings WHERE allocation_run = %(allocation_run)s),
       ARRAY(SELECT id FROM job_lines WHERE allocation_run = %(allocation_run)s),
       ARRAY(SELECT id FROM allocation_run_preferencers WHERE allocation_run = %(allocation_run)s)
