-- Back to the state before 0009: no row-level security, no guards, the two grants back, and
-- the functions as 0001 and 0002 created them (SECURITY INVOKER, no SET clause, executable by
-- PUBLIC).

DROP TRIGGER allocation_planner_runs_daemon_guard ON allocation_planner_runs;
DROP TRIGGER allocator_py_runs_daemon_guard ON allocator_py_runs;
DROP FUNCTION receptord_queue_guard();

DROP TRIGGER rotations_daemon_guard ON rotations;
DROP FUNCTION receptord_rotations_guard();
GRANT DELETE ON rotations TO receptord_daemon;

DROP POLICY receptord_daemon_lock ON job_lines;
DROP POLICY receptord_daemon_delete ON job_lines;
DROP POLICY receptord_daemon_insert ON job_lines;
DROP POLICY receptord_all_roles ON job_lines;
ALTER TABLE job_lines DISABLE ROW LEVEL SECURITY;

GRANT INSERT ON run_events TO receptord_daemon;  -- the lifecycle triggers run as the updater
GRANT EXECUTE ON FUNCTION receptord_on_insert(), receptord_on_status() TO PUBLIC;

CREATE OR REPLACE FUNCTION receptord_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'allocation_planner_runs' THEN
        NEW.updatedat := now();
    ELSE
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION receptord_on_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := receptord_run_kind(TG_TABLE_NAME);
BEGIN
    INSERT INTO run_events (run_id, run_kind, event, detail)
    VALUES (NEW.id, kind, 'enqueued', jsonb_build_object('priority', NEW.priority));
    IF NEW.status = 'PENDING' THEN
        PERFORM pg_notify('receptord_runs', kind);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION receptord_on_status() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := receptord_run_kind(TG_TABLE_NAME);
    event text := CASE NEW.status
        WHEN 'PENDING' THEN 'requeued'
        WHEN 'GENERATING' THEN 'claimed'
        ELSE lower(NEW.status::text) END;
BEGIN
    INSERT INTO run_events (run_id, run_kind, event, detail)
    VALUES (NEW.id, kind, event, jsonb_strip_nulls(jsonb_build_object(
        'from', OLD.status, 'to', NEW.status,
        'claimed_by', CASE WHEN NEW.status = 'PENDING' THEN OLD.claimed_by ELSE NEW.claimed_by END,
        'attempts', NEW.attempts, 'last_error', NEW.last_error)));
    PERFORM pg_notify('receptord_run_status', json_build_object(
        'kind', kind, 'id', NEW.id, 'status', NEW.status)::text);
    IF NEW.status = 'PENDING' THEN
        PERFORM pg_notify('receptord_runs', kind);
    END IF;
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION cancel_run(run_id uuid, reason text DEFAULT 'cancelled by user')
RETURNS run_status
LANGUAGE plpgsql AS $$
DECLARE
    result run_status;
BEGIN
    UPDATE allocator_py_runs SET status = 'CANCELLED', last_error = reason, completed_at = now()
     WHERE id = run_id AND status IN ('PENDING', 'GENERATING');
    UPDATE allocation_planner_runs SET status = 'CANCELLED', last_error = reason, completed_at = now()
     WHERE id = run_id AND status IN ('PENDING', 'GENERATING');
    SELECT status INTO result FROM allocator_py_runs WHERE id = run_id;
    IF result IS NULL THEN
        SELECT status INTO result FROM allocation_planner_runs WHERE id = run_id;
    END IF;
    RETURN result;
END $$;

CREATE OR REPLACE FUNCTION get_worker_qualifications(allocation_run uuid)
RETURNS TABLE (worker_mapping uuid, qualification_ids uuid[])
LANGUAGE sql STABLE AS $$
    SELECT m.id,
           coalesce(array_agg(q.tag ORDER BY q.tag) FILTER (WHERE q.tag IS NOT NULL), '{}')
      FROM allocation_run_worker_mappings m
      LEFT JOIN worker_qualifications q ON q.worker = m.worker
     WHERE m.allocation_run = get_worker_qualifications.allocation_run
     GROUP BY m.id
$$;
