-- Heartbeats rewrite heartbeat_at (and progress) about once a second per running run. With
-- heartbeat_at indexed, no heartbeat could be a HOT update: each added an entry to every
-- index of the queue table, which bloated exactly the hot, small tables a queue lives on.
-- The reaper reads the few GENERATING rows whatever the key, so index them by claimed_at,
-- which heartbeats never change.
DROP INDEX allocator_py_runs_generating_idx;
DROP INDEX allocation_planner_runs_generating_idx;
CREATE INDEX allocator_py_runs_generating_idx
    ON allocator_py_runs (claimed_at) WHERE status = 'GENERATING';
CREATE INDEX allocation_planner_runs_generating_idx
    ON allocation_planner_runs (claimed_at) WHERE status = 'GENERATING';
