-- Back to 0010's receptord_waiting: only a running round makes another wait.
CREATE OR REPLACE VIEW receptord_waiting AS
    SELECT 'allocator'::text AS kind, p.id, p.allocation_run_id AS allocation_run, p.priority, p.created_at,
           g.id AS waiting_for, g.claimed_by AS waiting_for_daemon, g.claimed_at AS waiting_for_claimed_at,
           'exclusive run ' || g.id || ' of the same allocation run is running (claimed by '
               || coalesce(g.claimed_by, '?') || '); rounds are solved one at a time' AS why
      FROM allocator_py_runs p
      JOIN allocator_py_runs g
        ON g.allocation_run_id = p.allocation_run_id AND g.is_exclusive AND g.status = 'GENERATING'
     WHERE p.status = 'PENDING' AND p.is_exclusive
     ORDER BY p.priority DESC, p.created_at;

ALTER TABLE allocator_py_runs ALTER COLUMN created_at SET DEFAULT now();
