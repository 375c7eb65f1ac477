-- Rounds in priority order (sql/queue/claim_allocator.sql): a pending round waits not only for
-- a running round of its allocation run but for every pending one that comes before it (higher
-- priority, or the same priority and created earlier, then by id). One row per waiting run,
-- naming what it waits for: the running round if there is one, else the next round.
CREATE OR REPLACE VIEW receptord_waiting AS
    SELECT kind, id, allocation_run, priority, created_at,
           waiting_for, waiting_for_daemon, waiting_for_claimed_at, why
      FROM (SELECT DISTINCT ON (p.id)
                   'allocator'::text AS kind, p.id, p.allocation_run_id AS allocation_run, p.priority,
                   p.created_at, g.id AS waiting_for, g.claimed_by AS waiting_for_daemon,
                   g.claimed_at AS waiting_for_claimed_at,
                   CASE WHEN g.status = 'GENERATING'
                     THEN 'exclusive run ' || g.id || ' of the same allocation run is running (claimed by '
                          || coalesce(g.claimed_by, '?') || '); rounds are solved one at a time'
                     ELSE 'exclusive run ' || g.id || ' of the same allocation run comes first (priority '
                          || g.priority || '); rounds are solved one at a time, in priority order'
                   END AS why
              FROM allocator_py_runs p
              JOIN allocator_py_runs g
                ON g.allocation_run_id = p.allocation_run_id AND g.is_exclusive AND g.id <> p.id
               AND (g.status = 'GENERATING'
                    OR (g.status = 'PENDING'
                        AND (g.priority > p.priority
                             OR (g.priority = p.priority AND (g.created_at, g.id) < (p.created_at, p.id)))))
             WHERE p.status = 'PENDING' AND p.is_exclusive
             ORDER BY p.id, g.status = 'GENERATING' DESC, g.priority DESC, g.created_at, g.id) AS w
     ORDER BY priority DESC, created_at;

-- Rounds inserted in one transaction run in the order they were inserted: now() is the
-- transaction's start, the same for every row, so it left their order to their random ids.
ALTER TABLE allocator_py_runs ALTER COLUMN created_at SET DEFAULT clock_timestamp();
