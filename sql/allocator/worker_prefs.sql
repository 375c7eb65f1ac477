-- Worker preferences as three binary columns (see db.fetch_columns): worker index, line
-- index (positions in the id arrays the loader passes) and rank, for the run's workers and
-- lines only. No uuid crosses into Python per row.
SELECT string_agg(int4send(w.ord::int4 - 1), ''),
       string_agg(int4send(l.ord::int4 - 1), ''),
       string_agg(float8send(p.rank::float8), '')
  FROM preference_worker_job_lines p
  JOIN unnest(%(workers)s::uuid[]) WITH ORDINALITY AS w(id, ord) ON w.id = p.worker_mapping
  JOIN unnest(%(lines)s::uuid[]) WITH ORDINALITY AS l(id, ord) ON l.id = p.job_line
