-- Worker preferences of the run's workers for the run's lines, as three binary columns (see
-- db.fetch_columns): worker mapping and job line as raw uuids, and the rank.
SELECT string_agg(uuid_send(worker_mapping), ''),
       string_agg(uuid_send(job_line), ''),
       string_agg(float8send(rank::float8), '')
  FROM preference_worker_job_lines
 WHERE worker_mapping = ANY (%(workers)s::uuid[]) AND job_line = ANY (%(lines)s::uuid[])
