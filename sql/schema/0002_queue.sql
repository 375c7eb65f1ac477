-- The work queue: claim indexes, lifecycle triggers (events + NOTIFY), cancellation, daemons.

-- Claim order (SPEC §2) as partial indexes: only claimable rows are indexed, so the claim
-- stays an index scan however much history the tables hold.
CREATE INDEX allocator_py_runs_pending_idx
    ON allocator_py_runs (priority DESC, created_at) WHERE status = 'PENDING';
CREATE INDEX allocation_planner_runs_pending_idx
    ON allocation_planner_runs (priority DESC, createdat) WHERE status = 'PENDING';
-- The reaper looks only at running rows.
CREATE INDEX allocator_py_runs_generating_idx
    ON allocator_py_runs (heartbeat_at) WHERE status = 'GENERATING';
CREATE INDEX allocation_planner_runs_generating_idx
    ON allocation_planner_runs (heartbeat_at) WHERE status = 'GENERATING';
-- Throughput and failure views read recent finished runs.
CREATE INDEX allocator_py_runs_completed_idx ON allocator_py_runs (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX allocation_planner_runs_completed_idx ON allocation_planner_runs (completed_at) WHERE completed_at IS NOT NULL;
CREATE INDEX allocator_py_runs_allocation_run_idx ON allocator_py_runs (allocation_run_id);

-- Every claim, heartbeat and finish is an UPDATE: leave room on each page for HOT updates,
-- and vacuum these small, hot tables long before the default 20% of dead rows. (Heartbeats
-- can be HOT only from 0007 on, which moves the GENERATING index off heartbeat_at.)
ALTER TABLE allocator_py_runs SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);
ALTER TABLE allocation_planner_runs SET (fillfactor = 80, autovacuum_vacuum_scale_factor = 0.02);

CREATE FUNCTION receptord_run_kind(tbl name) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE tbl WHEN 'allocator_py_runs' THEN 'allocator' ELSE 'planner' END
$$;

-- Keep the rows' own "last changed" column current for UIs.
CREATE FUNCTION receptord_touch() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'allocation_planner_runs' THEN
        NEW.updatedat := now();
    ELSE
        NEW.updated_at := now();
    END IF;
    RETURN NEW;
END $$;

-- Enqueue: wake idle daemons. The payload is the kind only, so a bulk insert of many runs in
-- one transaction folds into one notification (identical payloads are delivered once).
CREATE FUNCTION receptord_on_insert() RETURNS trigger
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

-- Every status transition is an event and a notification (channel receptord_run_status, a
-- small JSON payload UIs can listen to). Living in a trigger, no code path can skip it.
CREATE FUNCTION receptord_on_status() RETURNS trigger
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

CREATE TRIGGER allocator_py_runs_touch BEFORE UPDATE ON allocator_py_runs
    FOR EACH ROW EXECUTE FUNCTION receptord_touch();
CREATE TRIGGER allocation_planner_runs_touch BEFORE UPDATE ON allocation_planner_runs
    FOR EACH ROW EXECUTE FUNCTION receptord_touch();
CREATE TRIGGER allocator_py_runs_enqueued AFTER INSERT ON allocator_py_runs
    FOR EACH ROW EXECUTE FUNCTION receptord_on_insert();
CREATE TRIGGER allocation_planner_runs_enqueued AFTER INSERT ON allocation_planner_runs
    FOR EACH ROW EXECUTE FUNCTION receptord_on_insert();
CREATE TRIGGER allocator_py_runs_status AFTER UPDATE OF status ON allocator_py_runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION receptord_on_status();
CREATE TRIGGER allocation_planner_runs_status AFTER UPDATE OF status ON allocation_planner_runs
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION receptord_on_status();

-- Cancel a run of either kind: a PENDING run is never started; a GENERATING one is stopped by
-- the daemon holding it (it hears the status NOTIFY, or its next heartbeat finds the fence
-- gone) and writes nothing. Returns the status the run now has (NULL: no such run).
CREATE FUNCTION cancel_run(run_id uuid, reason text DEFAULT 'cancelled by user')
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

-- Live daemons announce themselves here; the DBA views read it.
CREATE TABLE receptord_daemons (
    name         text PRIMARY KEY,  -- host:pid, as in claimed_by
    host         text NOT NULL,
    pid          integer NOT NULL,
    version      text NOT NULL,
    slots        integer NOT NULL,
    in_flight    integer NOT NULL DEFAULT 0,
    state        text NOT NULL DEFAULT 'running'
                 CONSTRAINT receptord_daemons_state_check CHECK (state IN ('running', 'draining', 'stopped')),
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    stopped_at   timestamptz
);
