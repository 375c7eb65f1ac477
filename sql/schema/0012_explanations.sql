-- Explanations (issue 11): with every COMPLETED allocator run, why each worker is not on the
-- lines they ranked higher than theirs, and what one seat more or fewer on each line is worth
-- (daemon/allocator/explanations.py). Written in the run's finishing transaction with its
-- allocations, so a run has all of them or none; deleted with the run.

CREATE TABLE allocator_py_explanations (
    run_id         uuid NOT NULL CONSTRAINT ape_run_fkey REFERENCES allocator_py_runs ON DELETE CASCADE,
    worker_mapping uuid NOT NULL CONSTRAINT ape_worker_mapping_fkey
                   REFERENCES allocation_run_worker_mappings ON DELETE CASCADE,
    job_line       uuid NOT NULL CONSTRAINT ape_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    -- the worker's normalised rank of job_line (as allocator_py_allocations.worker_rank)
    worker_rank    double precision NOT NULL,
    reason         text NOT NULL CONSTRAINT ape_reason_check
                   CHECK (reason IN ('not_eligible', 'no_seat', 'supervisor_cap', 'trade_off', 'no_allocation')),
    -- trade_off: how much the run's objective (total dissatisfaction) would rise in the best
    -- allocation that puts this worker on job_line; exact, or a lower bound when
    -- detail->>'exact' is false (runs solved by CP-SAT)
    delta          double precision CONSTRAINT ape_delta_check CHECK (delta >= 0),
    detail         jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT ape_pkey PRIMARY KEY (run_id, worker_mapping, job_line)
);
CREATE INDEX ape_job_line_idx ON allocator_py_explanations (job_line);

CREATE TABLE allocator_py_seat_values (
    run_id         uuid NOT NULL CONSTRAINT apsv_run_fkey REFERENCES allocator_py_runs ON DELETE CASCADE,
    job_line       uuid NOT NULL CONSTRAINT apsv_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    -- how much the objective would fall with one more seat on the line (at most, when not exact)
    one_more_seat  double precision NOT NULL CONSTRAINT apsv_more_check CHECK (one_more_seat >= 0),
    -- how much it would rise with one fewer (at least, when not exact: and under stability a
    -- seat fewer can lower the optimum, so that bound may be negative); NULL: the line has no
    -- seat to take away, or no allocation of the run would be possible without it
    one_fewer_seat double precision,
    exact          boolean NOT NULL,
    CONSTRAINT apsv_pkey PRIMARY KEY (run_id, job_line)
);
CREATE INDEX apsv_job_line_idx ON allocator_py_seat_values (job_line);

-- Results: the daemon inserts them and reads them back (export); nothing else.
GRANT SELECT, INSERT ON allocator_py_explanations, allocator_py_seat_values TO receptord_daemon;

-- For administrators: the explanations with names, best-ranked first per worker. Names stay
-- unreadable to the daemon's role (no grant here).
CREATE VIEW allocator_py_explanations_named AS
    SELECT e.run_id, e.worker_mapping, w.name AS worker_name, e.job_line, j.name AS job_line_name,
           e.worker_rank, e.reason, e.delta, (e.detail->>'exact')::boolean AS exact,
           got.job_line AS allocated_job_line, gj.name AS allocated_job_line_name,
           got.worker_rank AS allocated_worker_rank, e.detail
      FROM allocator_py_explanations e
      JOIN allocation_run_worker_mappings m ON m.id = e.worker_mapping
      JOIN workers w ON w.id = m.worker
      JOIN job_lines j ON j.id = e.job_line
      LEFT JOIN allocator_py_allocations got ON got.run_id = e.run_id AND got.worker_mapping = e.worker_mapping
      LEFT JOIN job_lines gj ON gj.id = got.job_line;
