-- Renew the lease and publish progress. No row back means the lease is gone (cancelled,
-- reclaimed, or finished elsewhere): the caller must stop the solve and write nothing.
UPDATE {table}
   SET heartbeat_at = now(), progress = coalesce(%(progress)s::jsonb, progress)
 WHERE id = %(id)s AND status = 'GENERATING' AND claimed_by = %(daemon)s AND attempts = %(attempts)s
RETURNING id
