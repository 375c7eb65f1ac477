-- Queue depth for the daemon's systemd STATUS line (partial indexes make this cheap).
SELECT (SELECT count(*) FROM allocator_py_runs WHERE status = 'PENDING')
     + (SELECT count(*) FROM allocation_planner_runs WHERE status = 'PENDING')
