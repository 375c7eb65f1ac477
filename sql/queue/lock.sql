-- Open the finishing transaction: lock the run if (and only if) this daemon still holds it.
-- The row lock keeps the reaper and cancel_run() off the run until the results and the final
-- status commit together, or roll back together.
SELECT id FROM {table}
 WHERE id = %(id)s AND status = 'GENERATING' AND claimed_by = %(daemon)s AND attempts = %(attempts)s
   FOR UPDATE
