-- Supervisors' rankings of workers, as binary columns (see worker_prefs.sql).
SELECT string_agg(int4send(s.ord::int4 - 1), ''),
       string_agg(int4send(w.ord::int4 - 1), ''),
       string_agg(float8send(p.rank::float8), '')
  FROM preference_preferencer_workers p
  JOIN unnest(%(preferencers)s::uuid[]) WITH ORDINALITY AS s(id, ord) ON s.id = p.preferencer
  JOIN unnest(%(workers)s::uuid[]) WITH ORDINALITY AS w(id, ord) ON w.id = p.worker_mapping
