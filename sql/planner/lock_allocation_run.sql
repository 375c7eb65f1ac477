-- Serialise every writer of one allocation run's job lines (planner/write.py, first statement
-- after reading the run). A transaction-scoped advisory lock: held until the finishing
-- transaction commits or rolls back, never leaked by a crash. Its key, for DBAs and any other
-- program that writes job lines and wants to wait for the planner (or make it wait):
--
--     SELECT pg_advisory_xact_lock(hashtextextended('receptord.job_lines:' || <allocation run uuid>::text, 0));
--
-- i.e. the one-bigint form, keyed on the canonical text of the allocationruns.id (lower-case,
-- hyphenated, as uuid::text prints it). A hash collision with another key only makes two
-- unrelated writers take turns; it never lets two writers of one allocation run overlap.
--
-- This must be its own statement, before lock_generated.sql and the in-use check: under READ
-- COMMITTED each statement takes a new snapshot, so the statements after this one see the
-- lines a writer that held the lock before us committed, and snapshot and replace them. (A
-- lock taken inside a statement would come after that statement's snapshot.) The isolation
-- level is returned so write.py can refuse to run under REPEATABLE READ or SERIALIZABLE, where
-- the snapshot predates the lock and the previous writer's lines would stay invisible.
SELECT current_setting('transaction_isolation')
  FROM pg_advisory_xact_lock(hashtextextended('receptord.job_lines:' || %(allocation_run)s::uuid::text, 0))
