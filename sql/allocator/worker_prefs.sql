-- Worker preferences of the run's workers for the run's lines, as three binary columns (see
-- db.fetch_columns): worker mapping and job line as raw uuids, and the rank; and how many
-- preferences of the allocation run's workers name a job line of another allocation run
-- (foreign_rows.sql names them). One pass over the table for both: it is the largest one
-- (2.25 M rows at 1,500 x 1,500), and the first pass over freshly imported rows also sets
-- their hint bits (with data checksums, a full-page image each in the WAL: 0.4 s more).
-- A rank is cast only in the run's own rows (an aggregate's FILTER comes before its
-- arguments): a number float8 cannot hold elsewhere is not this run's to refuse.
-- %(whole_run)s: the run takes every worker mapping and job line of its allocation run, so
-- each row the WHERE keeps is the run's own. An aggregate's FILTER is evaluated once per
-- aggregate (three times a row), so the two array tests are skipped then (OR stops at a
-- true): at 1,500 x 1,500, 13.5 M hash probes fewer, the query a fifth faster.
SELECT string_agg(uuid_send(worker_mapping), '') FILTER (WHERE in_run),
       string_agg(uuid_send(job_line), '') FILTER (WHERE in_run),
       string_agg(float8send(rank::float8), '') FILTER (WHERE in_run),
       count(*) FILTER (WHERE job_line <> ALL (%(run_lines)s::uuid[]))
  FROM (SELECT worker_mapping, job_line, rank,
               (%(whole_run)s OR worker_mapping = ANY (%(workers)s::uuid[]) AND job_line = ANY (%(lines)s::uuid[]))
                 AS in_run
          FROM preference_worker_job_lines
         WHERE worker_mapping = ANY (%(run_workers)s::uuid[])) AS p
