-- A planner run locks the job lines it is about to replace (SELECT ... FOR UPDATE in
-- sql/planner/lock_generated.sql) before checking that no preference or allocation uses them,
-- so none can be added between the check and the delete (a foreign key check takes FOR KEY
-- SHARE on the referenced line, which only FOR UPDATE blocks). PostgreSQL allows FOR UPDATE
-- only with the UPDATE privilege on at least one column of the table; the daemon never
-- updates job lines.
--
-- The column is planner_run. It is not harmless (re-tagging a hand-made line as generated
-- would let a later planner run replace it), but it adds nothing the role cannot already do:
-- it may DELETE any job line and INSERT lines with any planner_run. It still cannot change a
-- line's allocation run, name, order, seats or must-have flag.
GRANT UPDATE (planner_run) ON job_lines TO receptord_daemon;

-- Writers of one allocation run's job lines also serialise on a transaction-scoped advisory
-- lock, which other programs writing job lines can take too (see
-- sql/planner/lock_allocation_run.sql):
--     SELECT pg_advisory_xact_lock(hashtextextended('receptord.job_lines:' || <allocation run uuid>::text, 0));
-- It needs no grant (the advisory lock functions are executable by PUBLIC).
