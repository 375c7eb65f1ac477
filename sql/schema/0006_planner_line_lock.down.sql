-- Revoke what 0006 granted: the daemon can no longer lock job lines FOR UPDATE.
REVOKE UPDATE (planner_run) ON job_lines FROM receptord_daemon;
