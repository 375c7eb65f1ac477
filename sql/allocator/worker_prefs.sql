-- (worker index, line index, rank) for the run's workers and lines; indexes are positions
-- in the id arrays the loader passes, so no uuid crosses into Python per row.
SELECT w.ord::int4 - 1, l.ord::int4 - 1, p.rank::float8
  FROM preference_worker_job_lines p
  JOIN unnest(%(workers)s::uuid[]) WITH ORDINALITY AS w(id, ord) ON w.id = p.worker_mapping
  JOIN unnest(%(lines)s::uuid[]) WITH ORDINALITY AS l(id, ord) ON l.id = p.job_line
