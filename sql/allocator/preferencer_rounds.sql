-- Exclusive rounds: per supervisor, the workers earlier rounds (earlier_round_allocations, see
-- earlier_rounds.sql) placed on its lines OUTSIDE this run, and how many of those lines they
-- used. Its lines inside the run are counted per line by lines.sql (taken); together they make
-- the caps count earlier rounds on every line of the allocation run (SPEC §3).
SELECT lp.preferencer, count(*) AS workers, count(DISTINCT e.job_line) AS lines
  FROM earlier_round_allocations e
  JOIN job_line_preferencers lp ON lp.job_line = e.job_line
  JOIN allocation_run_preferencers s ON s.id = lp.preferencer
 WHERE s.allocation_run = %(allocation_run)s
   AND NOT (e.job_line = ANY (%(lines)s::uuid[]))
 GROUP BY lp.preferencer
 ORDER BY lp.preferencer
