-- The rounds invariant (issue 10), checked in an exclusive run's finishing transaction once
-- its allocations are in: across the COMPLETED, not superseded exclusive runs of its
-- allocation run plus this one, no worker is allocated twice, no job line holds more than its
-- max_n_workers, no supervisor (allocation_run_preferencers, lines by job_line_preferencers)
-- more than its max_workers workers or max_job_lines lines. One row per breach, naming it;
-- none for a non-exclusive run. Only breaches this run takes part in count: one that earlier
-- rounds already hold (a cap lowered after they completed) is not this round's to refuse, and
-- refusing it would block every later round of the allocation run.
WITH me AS (
    SELECT id, allocation_run_id FROM allocator_py_runs WHERE id = %(run)s AND is_exclusive
), counted AS (
    SELECT a.run_id, a.worker_mapping, a.job_line, r.id = me.id AS mine
      FROM me
      JOIN allocator_py_runs r
        ON r.allocation_run_id = me.allocation_run_id AND r.is_exclusive
       AND (r.id = me.id OR (r.status = 'COMPLETED' AND r.superseded_at IS NULL))
      JOIN allocator_py_allocations a ON a.run_id = r.id
), breach AS (
    SELECT format('worker mapping %%s is allocated by runs %%s', c.worker_mapping,
                  string_agg(c.run_id::text, ' and ' ORDER BY c.run_id)) AS what
      FROM counted c
     GROUP BY c.worker_mapping HAVING count(*) > 1 AND bool_or(c.mine)
    UNION ALL
    SELECT format('job line %%s (%%s) holds %%s workers, over its max_n_workers %%s',
                  j.id, j.name, count(*), j.max_n_workers)
      FROM counted c JOIN job_lines j ON j.id = c.job_line
     GROUP BY j.id HAVING count(*) > j.max_n_workers AND bool_or(c.mine)
    UNION ALL
    SELECT format('supervisor %%s (%%s) has %%s workers, over its max_workers %%s', p.id, p.name, count(*), p.max_workers)
      FROM counted c
      JOIN job_line_preferencers lp ON lp.job_line = c.job_line
      JOIN allocation_run_preferencers p ON p.id = lp.preferencer
     WHERE p.max_workers IS NOT NULL
     GROUP BY p.id HAVING count(*) > p.max_workers AND bool_or(c.mine)
    UNION ALL
    SELECT format('supervisor %%s (%%s) has workers on %%s lines, over its max_job_lines %%s',
                  p.id, p.name, count(DISTINCT c.job_line), p.max_job_lines)
      FROM counted c
      JOIN job_line_preferencers lp ON lp.job_line = c.job_line
      JOIN allocation_run_preferencers p ON p.id = lp.preferencer
     WHERE p.max_job_lines IS NOT NULL
     GROUP BY p.id HAVING count(DISTINCT c.job_line) > p.max_job_lines AND bool_or(c.mine)
)
SELECT what FROM breach ORDER BY what LIMIT 21
