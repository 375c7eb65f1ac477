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
    -- detail->>'exact' is false (runs solved by CP-SAT). With allow_unassigned, fewest workers
    -- left out comes first: when detail->>'more_left_out' > 0 the cost may even fall (< 0)
    delta          double precision,
    detail         jsonb NOT NULL DEFAULT '{}',
    CONSTRAINT ape_pkey PRIMARY KEY (run_id, worker_mapping, job_line)
);
-- The foreign keys' other ends, so deleting a line or a worker mapping finds its rows.
CREATE INDEX ape_job_line_idx ON allocator_py_explanations (job_line);
CREATE INDEX ape_worker_mapping_idx ON allocator_py_explanations (worker_mapping);

CREATE TABLE allocator_py_seat_values (
    run_id         uuid NOT NULL CONSTRAINT apsv_run_fkey REFERENCES allocator_py_runs ON DELETE CASCADE,
    -- Not a foreign key: every line of the run has a row, and a planner run may replace lines
    -- nobody ranked or got while an allocator run finishes; a row may then name a line gone.
    job_line       uuid NOT NULL,
    -- how much the objective would fall with one more seat on the line (at most, when not exact)
    one_more_seat  double precision NOT NULL,
    -- how much it would rise with one fewer (at least, when not exact: and under stability a
    -- seat fewer can lower the optimum, so that bound may be negative); NULL: the line has no
    -- seat to take away, or no allocation of the run would be possible without it
    one_fewer_seat double precision,
    exact          boolean NOT NULL,
    -- allow_unassigned: workers left out (whose leaving out counts, SPEC §4.1) that one more
    -- seat would place, and that one fewer would leave out. That count comes first, so with
    -- either above 0 the figure beside it may be negative.
    one_more_seat_places      integer NOT NULL DEFAULT 0,
    one_fewer_seat_leaves_out integer NOT NULL DEFAULT 0,
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
