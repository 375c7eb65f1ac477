DROP INDEX allocator_py_runs_generating_idx;
DROP INDEX allocation_planner_runs_generating_idx;
CREATE INDEX allocator_py_runs_generating_idx
    ON allocator_py_runs (heartbeat_at) WHERE status = 'GENERATING';
CREATE INDEX allocation_planner_runs_generating_idx
    ON allocation_planner_runs (heartbeat_at) WHERE status = 'GENERATING';
