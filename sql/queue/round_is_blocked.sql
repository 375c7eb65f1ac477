(q.is_exclusive AND EXISTS (
    -- A round (exclusive run) q is claimable only as its allocation run's next round: no other
    -- round of it GENERATING, and none PENDING before it in claim order (priority, then
    -- creation, then id). Shared by queue/claim_allocator.sql and queue/claim_id_allocator.sql.
    SELECT 1 FROM {table} AS g
     WHERE g.allocation_run_id = q.allocation_run_id AND g.is_exclusive AND g.id <> q.id
       AND (g.status = 'GENERATING'
            OR (g.status = 'PENDING'
                AND (g.priority > q.priority
                     OR (g.priority = q.priority AND (g.{created}, g.id) < (q.{created}, q.id)))))))
