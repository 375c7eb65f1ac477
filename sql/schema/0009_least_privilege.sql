-- receptord_daemon writes only what its job needs (issue 9). Until now its table grants let
-- it delete any job line (hand-made ones too, cascading the preferences and allocations on
-- them), insert lines into any allocation run, set any run's status without the fence and
-- insert forged run_events rows. The grants stay as they were, apart from two revoked below;
-- row-level security (job lines) and triggers (rotations, the queues) narrow them to the rows
-- of the job:
--
--   job lines     insert only lines tagged with a running planner run of the same allocation
--                 run; delete only generated lines (planner_run set) that no worker ranked and
--                 nobody is allocated to, of an allocation run a planner run is running for;
--                 lock (FOR UPDATE) only generated lines, and never change one.
--   rotations     add only to such lines; delete none directly (a generated line's rotations
--                 go with it, by the foreign key's cascade).
--   queue tables  only the lifecycle's transitions: PENDING → GENERATING, GENERATING → itself,
--                 PENDING, COMPLETED, INFEASIBLE or FAILED. No finished run, no CANCELLED.
--   run_events    nothing: only the lifecycle triggers write it, as their owner.
--
-- Who is restricted: members of receptord_daemon (with its privileges: INHERIT, or after SET
-- ROLE) that are not the table's owner, a member of the owner role or a superuser. Clients,
-- the owner and the DBA views (which run as their owner) see and do what they did before.

-- ---------------------------------------------------------------- job lines

-- Every policy for the daemon is RESTRICTIVE, and one permissive policy admits every role:
-- row-level security denies all rows to a role no permissive policy admits, so without it any
-- other non-owner role (a web application's, say) would lose its job lines. Owners and
-- superusers bypass row-level security (no FORCE ROW LEVEL SECURITY); so do foreign key
-- actions, which run as the owner of the table they change: deleting a generated line still
-- cascades to its rotations, eligibility and weightings. Under row-level security the planner
-- uses a column's statistics only with leakproof operators: the daemon's reads of job lines
-- compare uuids (leakproof) and test for NULL, so its plans are unchanged; a non-owner
-- client's LIKE on job_lines.name is now estimated without statistics.
ALTER TABLE job_lines ENABLE ROW LEVEL SECURITY;

CREATE POLICY receptord_all_roles ON job_lines AS PERMISSIVE FOR ALL TO PUBLIC
    USING (true) WITH CHECK (true);

-- sql/planner/insert_line.sql, inside the finishing transaction of the planner run it names
-- (the run is GENERATING and locked by that transaction).
CREATE POLICY receptord_daemon_insert ON job_lines AS RESTRICTIVE FOR INSERT TO receptord_daemon
    WITH CHECK (
        planner_run IS NOT NULL
        AND EXISTS (SELECT 1 FROM public.allocation_planner_runs p
                     WHERE p.id = job_lines.planner_run
                       AND p.allocation_run = job_lines.allocation_run
                       AND p.status = 'GENERATING'));

-- sql/planner/delete_generated.sql: the lines earlier planner runs generated. A line in use
-- (ranked, allocated) is never deleted: planner/write.py checks that first and fails the run
-- (sql/planner/generated_in_use.sql, the same two tests); here the database enforces it too.
-- Rows a policy filters out are skipped, not an error: a DELETE of other lines deletes nothing.
CREATE POLICY receptord_daemon_delete ON job_lines AS RESTRICTIVE FOR DELETE TO receptord_daemon
    USING (
        planner_run IS NOT NULL
        AND NOT EXISTS (SELECT 1 FROM public.preference_worker_job_lines w WHERE w.job_line = job_lines.id)
        AND NOT EXISTS (SELECT 1 FROM public.allocator_py_allocations a WHERE a.job_line = job_lines.id)
        AND EXISTS (SELECT 1 FROM public.allocation_planner_runs p
                     WHERE p.allocation_run = job_lines.allocation_run AND p.status = 'GENERATING'));

-- sql/planner/lock_generated.sql locks generated lines FOR UPDATE, which needs the UPDATE
-- privilege (0006 grants it on planner_run) and passes the UPDATE policies' USING: so only
-- generated lines can be locked. A lock writes no row, so WITH CHECK (false) refuses every
-- real UPDATE (re-tagging a hand-made line, or untagging a generated one) and no lock.
CREATE POLICY receptord_daemon_lock ON job_lines AS RESTRICTIVE FOR UPDATE TO receptord_daemon
    USING (planner_run IS NOT NULL) WITH CHECK (false);

-- ---------------------------------------------------------------- rotations

-- The daemon deletes rotations only through the cascade from a generated line's DELETE (run
-- as the owner of rotations, with no privilege of the daemon's).
REVOKE DELETE ON rotations FROM receptord_daemon;

-- sql/planner/insert_rotations.sql writes by COPY, which row-level security would refuse
-- ("COPY FROM not supported with row-level security"), hence a trigger. Every other role's
-- rows pass untouched. SECURITY INVOKER: the check is about who inserts.
CREATE FUNCTION receptord_rotations_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF pg_catalog.pg_has_role('receptord_daemon', 'USAGE')
       AND NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'USAGE')
       AND NOT EXISTS (SELECT 1 FROM public.job_lines j
                         JOIN public.allocation_planner_runs p ON p.id = j.planner_run
                        WHERE j.id = NEW.job_line AND j.allocation_run = NEW.allocation_run
                          AND p.status = 'GENERATING') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = 'receptord_daemon may add rotations only to the lines of a running planner run',
            DETAIL = pg_catalog.format('job line %s, allocation run %s', NEW.job_line, NEW.allocation_run);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER rotations_daemon_guard BEFORE INSERT ON rotations
    FOR EACH ROW EXECUTE FUNCTION receptord_rotations_guard();

-- ---------------------------------------------------------------- the queues

-- Only the transitions of the lifecycle: claim (PENDING → GENERATING), heartbeat (GENERATING
-- → GENERATING), finish (→ COMPLETED, INFEASIBLE, FAILED), release and reap (→ PENDING,
-- FAILED). So no finished run can be touched, and nothing cancelled (CANCELLED is the user's:
-- cancel_run). The fence itself (claimed_by, attempts) cannot be enforced: a daemon's name is
-- free text that any login may claim under.
--
-- A trigger, not row-level security: with any policy on a table, the planner may no longer
-- use its statistics for operators that are not leakproof, and status is an enum (enum_eq is
-- not leakproof). Measured with 500,000 finished runs: the reap (every tick) went from a
-- nested loop over the index of running runs, 1 ms, to a hash join over a sequential scan,
-- 85 ms, and the STATUS line's pending count from 0.7 ms to 45 ms (a parallel sequential
-- scan). A trigger changes no plan, and sees the old row, so it checks transitions, not just
-- the new status.
CREATE FUNCTION receptord_queue_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF (OLD.status = 'PENDING' AND NEW.status = 'GENERATING')
       OR (OLD.status = 'GENERATING'
           AND NEW.status IN ('GENERATING', 'PENDING', 'COMPLETED', 'INFEASIBLE', 'FAILED')) THEN
        RETURN NEW;  -- the daemon's transitions (checked first: heartbeats stay cheap)
    END IF;
    IF pg_catalog.pg_has_role('receptord_daemon', 'USAGE')
       AND NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        RAISE EXCEPTION USING
            ERRCODE = 'insufficient_privilege',
            MESSAGE = pg_catalog.format('receptord_daemon may not change a %s run to %s', OLD.status, NEW.status),
            DETAIL = pg_catalog.format('%s %s', TG_TABLE_NAME, OLD.id);
    END IF;
    RETURN NEW;
END $$;

CREATE TRIGGER allocator_py_runs_daemon_guard BEFORE UPDATE ON allocator_py_runs
    FOR EACH ROW EXECUTE FUNCTION receptord_queue_guard();
CREATE TRIGGER allocation_planner_runs_daemon_guard BEFORE UPDATE ON allocation_planner_runs
    FOR EACH ROW EXECUTE FUNCTION receptord_queue_guard();

-- ---------------------------------------------------------------- run_events

-- Written only by the lifecycle triggers, which now run as their owner (the schema's owner).
REVOKE INSERT ON run_events FROM receptord_daemon;

-- Every function: objects schema-qualified and a fixed search_path with pg_temp last, so no
-- session can shadow a table with a temporary one (CREATE TEMP TABLE run_events (...) used to
-- catch the events of the session's own transitions).
--
-- The two lifecycle triggers are SECURITY DEFINER, and executable by no one but their owner:
-- firing a trigger needs no privilege on its function, but attaching one (CREATE TRIGGER on a
-- temporary table of one's own) does, and would let anyone write events as the owner.
CREATE OR REPLACE FUNCTION receptord_on_insert() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    kind text := public.receptord_run_kind(TG_TABLE_NAME);
BEGIN
    INSERT INTO public.run_events (run_id, run_kind, event, detail)
    VALUES (NEW.id, kind, 'enqueued', pg_catalog.jsonb_build_object('priority', NEW.priority));
    IF NEW.status = 'PENDING' THEN
        PERFORM pg_catalog.pg_notify('receptord_runs', kind);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION receptord_on_status() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    kind text := public.receptord_run_kind(TG_TABLE_NAME);
    event text := CASE NEW.status
        WHEN 'PENDING' THEN 'requeued'
        WHEN 'GENERATING' THEN 'claimed'
        ELSE pg_catalog.lower(NEW.status::text) END;
BEGIN
    INSERT INTO public.run_events (run_id, run_kind, event, detail)
    VALUES (NEW.id, kind, event, pg_catalog.jsonb_strip_nulls(pg_catalog.jsonb_build_object(
        'from', OLD.status, 'to', NEW.status,
        'claimed_by', CASE WHEN NEW.status = 'PENDING' THEN OLD.claimed_by ELSE NEW.claimed_by END,
        'attempts', NEW.attempts, 'last_error', NEW.last_error)));
    PERFORM pg_catalog.pg_notify('receptord_run_status', pg_catalog.json_build_object(
        'kind', kind, 'id', NEW.id, 'status', NEW.status)::text);
    IF NEW.status = 'PENDING' THEN
        PERFORM pg_catalog.pg_notify('receptord_runs', kind);
    END IF;
    RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION receptord_on_insert(), receptord_on_status() FROM PUBLIC;

-- Changes only the row being updated: needs no privilege, so it stays SECURITY INVOKER.
CREATE OR REPLACE FUNCTION receptord_touch() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    IF TG_TABLE_NAME = 'allocation_planner_runs' THEN
        NEW.updatedat := pg_catalog.now();
    ELSE
        NEW.updated_at := pg_catalog.now();
    END IF;
    RETURN NEW;
END $$;

-- SECURITY INVOKER: whoever cancels needs the right to (the daemon has not: CANCELLED is not a
-- status its policy allows).
CREATE OR REPLACE FUNCTION cancel_run(run_id uuid, reason text DEFAULT 'cancelled by user')
RETURNS run_status
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    result public.run_status;
BEGIN
    UPDATE public.allocator_py_runs
       SET status = 'CANCELLED', last_error = reason, completed_at = pg_catalog.now()
     WHERE id = run_id AND status IN ('PENDING', 'GENERATING');
    UPDATE public.allocation_planner_runs
       SET status = 'CANCELLED', last_error = reason, completed_at = pg_catalog.now()
     WHERE id = run_id AND status IN ('PENDING', 'GENERATING');
    SELECT status INTO result FROM public.allocator_py_runs WHERE id = run_id;
    IF result IS NULL THEN
        SELECT status INTO result FROM public.allocation_planner_runs WHERE id = run_id;
    END IF;
    RETURN result;
END $$;

-- SECURITY INVOKER and read-only: a caller's temporary tables could only mislead the caller.
-- Qualified all the same, but with no SET clause, which would stop the planner from inlining
-- it into the query that reads it. (Functions and operators are never looked up in pg_temp,
-- and pg_catalog comes first when the search_path does not name it.)
CREATE OR REPLACE FUNCTION get_worker_qualifications(allocation_run uuid)
RETURNS TABLE (worker_mapping uuid, qualification_ids uuid[])
LANGUAGE sql STABLE AS $$
    SELECT m.id,
           coalesce(array_agg(q.tag ORDER BY q.tag) FILTER (WHERE q.tag IS NOT NULL), '{}')
      FROM public.allocation_run_worker_mappings m
      LEFT JOIN public.worker_qualifications q ON q.worker = m.worker
     WHERE m.allocation_run = get_worker_qualifications.allocation_run
     GROUP BY m.id
$$;
-- receptord_run_kind(name) names no object (a CASE over its argument) and is left as it is.
