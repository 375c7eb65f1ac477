DROP TABLE receptord_daemons;
DROP FUNCTION cancel_run(uuid, text);
DROP TRIGGER allocator_py_runs_status ON allocator_py_runs;
DROP TRIGGER allocation_planner_runs_status ON allocation_planner_runs;
DROP TRIGGER allocator_py_runs_enqueued ON allocator_py_runs;
DROP TRIGGER allocation_planner_runs_enqueued ON allocation_planner_runs;
DROP TRIGGER allocator_py_runs_touch ON allocator_py_runs;
DROP TRIGGER allocation_planner_runs_touch ON allocation_planner_runs;
DROP FUNCTION receptord_on_status(), receptord_on_insert(), receptord_touch(), receptord_run_kind(name);
ALTER TABLE allocator_py_runs RESET (fillfactor, autovacuum_vacuum_scale_factor);
ALTER TABLE allocation_planner_runs RESET (fillfactor, autovacuum_vacuum_scale_factor);
DROP INDEX allocator_py_runs_pending_idx, allocation_planner_runs_pending_idx,
    allocator_py_runs_generating_idx, allocation_planner_runs_generating_idx,
    allocator_py_runs_completed_idx, allocation_planner_runs_completed_idx,
    allocator_py_runs_allocation_run_idx;
