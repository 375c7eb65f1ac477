-- receptord_daemon: the least-privilege role the daemon runs as. NOLOGIN: grant it to the
-- login role the daemon connects with, e.g.
--     CREATE ROLE receptord LOGIN PASSWORD '...' IN ROLE receptord_daemon;
-- It reads the inputs it solves, changes only the lifecycle columns of the queues, and writes
-- only results. It cannot read workers' names or e-mails, delete runs, or change the schema.
-- Roles are cluster-wide, so it is created only if missing (several databases may share it).
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'receptord_daemon') THEN
        CREATE ROLE receptord_daemon NOLOGIN;
    END IF;
END $$;

-- Inputs.
GRANT SELECT ON allocationruns, allocation_run_worker_mappings, worker_qualifications, job_lines,
    allocation_run_preferencers, job_line_preferencers, preference_worker_job_lines,
    preference_preferencer_workers, allocation_run_preferencer_weightings, job_line_eligibility,
    positions, specialty_affinity, rotations
    TO receptord_daemon;
GRANT EXECUTE ON FUNCTION get_worker_qualifications(uuid) TO receptord_daemon;

-- The queues: read runs; change only their lifecycle columns.
GRANT SELECT ON allocator_py_runs, allocation_planner_runs TO receptord_daemon;
GRANT UPDATE (status, claimed_by, claimed_at, heartbeat_at, attempts, progress, last_error,
              completed_at, result_metadata)
    ON allocator_py_runs, allocation_planner_runs TO receptord_daemon;
GRANT INSERT ON run_events TO receptord_daemon;  -- the lifecycle triggers run as the updater
GRANT SELECT, INSERT, UPDATE ON receptord_daemons TO receptord_daemon;

-- Results. Planner runs replace the job lines they generated (history snapshot first).
GRANT SELECT, INSERT ON allocator_py_allocations TO receptord_daemon;
GRANT INSERT, DELETE ON job_lines, rotations TO receptord_daemon;
GRANT INSERT ON job_lines_history TO receptord_daemon;

-- The DBA views, so `receptord status` works with the daemon's own credentials.
GRANT SELECT ON receptord_runs, receptord_queue, receptord_running, receptord_failures,
    receptord_throughput, receptord_live_daemons, receptord_stuck
    TO receptord_daemon;
