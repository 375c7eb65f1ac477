-- Set the final status of a claimed run (after lock.sql, in the same transaction). Fenced on
-- the claim like every transition of a claimed run.
UPDATE {table}
   SET status = %(status)s, completed_at = now(), result_metadata = %(metadata)s::jsonb,
       last_error = %(error)s, progress = NULL
 WHERE id = %(id)s AND status = 'GENERATING' AND claimed_by = %(daemon)s AND attempts = %(attempts)s
RETURNING id
