-- Lock the lines earlier planner runs generated for this allocation run, before checking
-- whether anyone uses them (generated_in_use.sql), so a line found unused stays unused until
-- it is deleted:
--
-- A preference or allocation INSERT that references a line checks its foreign key with
-- SELECT ... FOR KEY SHARE on the line, and FOR KEY SHARE conflicts only with FOR UPDATE (not
-- FOR NO KEY UPDATE, whence FOR UPDATE here). So such an INSERT either
--   * committed before this statement returned: we waited for it if it was in flight, and the
--     in-use check, a later statement with a newer snapshot (READ COMMITTED), sees it and the
--     run fails naming the line; or
--   * comes after: it waits for this transaction, then fails its foreign key check because
--     the line is gone (or proceeds, if we rolled back).
-- Either way a preference or allocation is never cascade-deleted by a replacement.
--
-- ORDER BY id: one fixed locking order (a program locking several of these lines should use
-- it too). A deadlock with a writer that references the lines in another order (an allocator
-- run's COPY) is still possible; PostgreSQL aborts one side, and the daemon retries that as a
-- transient error. FOR UPDATE needs the UPDATE privilege on some column of job_lines:
-- receptord_daemon has it on planner_run only (sql/schema/0006_planner_line_lock.sql), and
-- never updates anything.
SELECT id
  FROM job_lines
 WHERE allocation_run = %(allocation_run)s AND planner_run IS NOT NULL
 ORDER BY id
   FOR UPDATE
