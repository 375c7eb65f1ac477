-- Supervisors' rankings of the run's workers, as binary columns (see worker_prefs.sql).
SELECT string_agg(uuid_send(preferencer), ''),
       string_agg(uuid_send(worker_mapping), ''),
       string_agg(float8send(rank::float8), '')
  FROM preference_preferencer_workers
 WHERE preferencer = ANY (%(preferencers)s::uuid[]) AND worker_mapping = ANY (%(workers)s::uuid[])
