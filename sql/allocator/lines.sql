SELECT j.id, j.name, j.max_n_workers, j.must_have_workers, j.sort_order,
       (SELECT count(*) FROM earlier_round_allocations e WHERE e.job_line = j.id) AS taken
  FROM job_lines j
 WHERE j.allocation_run = %(allocation_run)s
   AND (%(included)s::uuid[] IS NULL OR j.id = ANY (%(included)s::uuid[]))
 ORDER BY j.sort_order, j.id
