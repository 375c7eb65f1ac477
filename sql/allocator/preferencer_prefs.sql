SELECT s.ord::int4 - 1, w.ord::int4 - 1, p.rank::float8
  FROM preference_preferencer_workers p
  JOIN unnest(%(preferencers)s::uuid[]) WITH ORDINALITY AS s(id, ord) ON s.id = p.preferencer
  JOIN unnest(%(workers)s::uuid[]) WITH ORDINALITY AS w(id, ord) ON w.id = p.worker_mapping
