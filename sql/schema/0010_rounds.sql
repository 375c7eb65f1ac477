-- Rounds (issue 10): the exclusive allocator runs of one allocation run share its workers and
-- seats. An exclusive run subtracts the allocations of every other COMPLETED, not superseded
-- exclusive run of its allocation run (sql/allocator/earlier_rounds.sql), whatever their
-- creation order; so they are solved one at a time, and the finishing transaction checks the
-- invariant (sql/allocator/rounds_invariant.sql). Superseding a round retires its allocations
-- from both without deleting them.

-- ---------------------------------------------------------------- one round at a time

-- The guarantee: at most one exclusive run of an allocation run is GENERATING. The allocator's
-- claim (sql/queue/claim_allocator.sql) skips blocked runs; a claim that loses a race to this
-- index gets a unique violation, which daemon/runs.py reads as "nothing claimable now". Also
-- the index of that NOT EXISTS test. Heartbeats change none of its columns.
CREATE UNIQUE INDEX allocator_py_runs_one_exclusive_idx
    ON allocator_py_runs (allocation_run_id) WHERE is_exclusive AND status = 'GENERATING';

-- ---------------------------------------------------------------- superseding

-- Set by supersede_run(): the run's allocations stay, for history, but no longer count. Not a
-- status (the lifecycle, and the daemon's guard on it, are unchanged), and only ever set on a
-- COMPLETED exclusive run, once.
ALTER TABLE allocator_py_runs ADD COLUMN superseded_at timestamptz;
ALTER TABLE allocator_py_runs ADD CONSTRAINT apy_superseded_check
    CHECK (superseded_at IS NULL OR (is_exclusive AND status = 'COMPLETED'));

-- Superseding is final: un-superseding could count two rounds that allocate the same worker.
-- SECURITY INVOKER: it only refuses.
CREATE FUNCTION receptord_supersede_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'object_not_in_prerequisite_state',
        MESSAGE = pg_catalog.format('allocator run %s was superseded at %s; superseding is final',
                                    OLD.id, OLD.superseded_at);
END $$;

CREATE TRIGGER allocator_py_runs_supersede_guard BEFORE UPDATE OF superseded_at ON allocator_py_runs
    FOR EACH ROW WHEN (OLD.superseded_at IS NOT NULL AND NEW.superseded_at IS DISTINCT FROM OLD.superseded_at)
    EXECUTE FUNCTION receptord_supersede_guard();

-- The 'superseded' event, written as the owner like the other lifecycle events (0009), and so
-- executable by no one else.
CREATE FUNCTION receptord_on_superseded() RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, public, pg_temp
AS $$
BEGIN
    INSERT INTO public.run_events (run_id, run_kind, event, detail)
    VALUES (NEW.id, public.receptord_run_kind(TG_TABLE_NAME), 'superseded',
            pg_catalog.jsonb_build_object('superseded_at', NEW.superseded_at, 'by', SESSION_USER));
    RETURN NULL;
END $$;

REVOKE EXECUTE ON FUNCTION receptord_on_superseded() FROM PUBLIC;

CREATE TRIGGER allocator_py_runs_superseded AFTER UPDATE OF superseded_at ON allocator_py_runs
    FOR EACH ROW WHEN (OLD.superseded_at IS NULL AND NEW.superseded_at IS NOT NULL)
    EXECUTE FUNCTION receptord_on_superseded();

-- Retire a COMPLETED exclusive run's allocations from later rounds; returns when. SECURITY
-- INVOKER, like cancel_run: the caller needs UPDATE on superseded_at, which receptord_daemon
-- has not.
CREATE FUNCTION supersede_run(run_id uuid) RETURNS timestamptz
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    r record;
    result timestamptz;
BEGIN
    SELECT status, is_exclusive, superseded_at INTO r
      FROM public.allocator_py_runs WHERE id = supersede_run.run_id FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'no_data_found',
            MESSAGE = pg_catalog.format('no allocator run %s', run_id);
    END IF;
    IF NOT r.is_exclusive THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('allocator run %s is not exclusive: only a round (is_exclusive) can be superseded', run_id);
    END IF;
    IF r.status <> 'COMPLETED' THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('allocator run %s is %s: only a COMPLETED run can be superseded (cancel_run stops a pending or running one)', run_id, r.status);
    END IF;
    IF r.superseded_at IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
            MESSAGE = pg_catalog.format('allocator run %s was already superseded at %s', run_id, r.superseded_at);
    END IF;
    UPDATE public.allocator_py_runs SET superseded_at = pg_catalog.now()
     WHERE id = supersede_run.run_id RETURNING superseded_at INTO result;
    RETURN result;
END $$;

-- ---------------------------------------------------------------- the DBA views

-- Pending exclusive runs that wait for another exclusive run of their allocation run to finish.
CREATE VIEW receptord_waiting AS
    SELECT 'allocator'::text AS kind, p.id, p.allocation_run_id AS allocation_run, p.priority, p.created_at,
           g.id AS waiting_for, g.claimed_by AS waiting_for_daemon, g.claimed_at AS waiting_for_claimed_at,
           'exclusive run ' || g.id || ' of the same allocation run is running (claimed by '
               || coalesce(g.claimed_by, '?') || '); rounds are solved one at a time' AS why
      FROM allocator_py_runs p
      JOIN allocator_py_runs g
        ON g.allocation_run_id = p.allocation_run_id AND g.is_exclusive AND g.status = 'GENERATING'
     WHERE p.status = 'PENDING' AND p.is_exclusive
     ORDER BY p.priority DESC, p.created_at;

-- A new last column: how many of the pending runs wait for a round (receptord_waiting).
CREATE OR REPLACE VIEW receptord_queue AS
    SELECT k.kind,
           count(r.id) FILTER (WHERE r.status = 'PENDING')    AS pending,
           count(r.id) FILTER (WHERE r.status = 'GENERATING') AS running,
           now() - min(r.created_at) FILTER (WHERE r.status = 'PENDING') AS oldest_pending_age,
           (SELECT count(*) FROM receptord_waiting w WHERE w.kind = k.kind) AS waiting_for_a_round
      FROM (VALUES ('allocator'), ('planner')) AS k(kind)
      LEFT JOIN receptord_runs r ON r.kind = k.kind AND r.status IN ('PENDING', 'GENERATING')
     GROUP BY k.kind;

-- A pending run that waits for a round says so.
CREATE OR REPLACE VIEW receptord_stuck AS
    SELECT kind, id, status,
           CASE
             WHEN status = 'GENERATING' AND NOT EXISTS (
                  SELECT 1 FROM receptord_daemons d
                   WHERE d.name = r.claimed_by AND d.heartbeat_at > now() - interval '1 minute')
               THEN 'claimed by ' || claimed_by || ', which is not alive; a live daemon reclaims it when its lease expires'
             WHEN status = 'GENERATING'
               THEN 'no heartbeat for ' || date_trunc('second', now() - heartbeat_at) || ' from ' || claimed_by
             WHEN NOT EXISTS (SELECT 1 FROM receptord_live_daemons)
               THEN 'pending, and no daemon is alive'
             WHEN EXISTS (SELECT 1 FROM receptord_waiting w WHERE w.id = r.id)
               THEN 'pending for ' || date_trunc('second', now() - created_at) || ', waiting: '
                    || (SELECT w.why FROM receptord_waiting w WHERE w.id = r.id LIMIT 1)
             ELSE 'pending for ' || date_trunc('second', now() - created_at) || ' behind '
                  || (SELECT count(*) FROM receptord_runs q
                       WHERE q.status = 'PENDING' AND (q.priority > r.priority
                          OR (q.priority = r.priority AND q.created_at < r.created_at))) || ' runs'
           END AS why,
           claimed_by, heartbeat_at, created_at
      FROM receptord_runs r
     WHERE (status = 'GENERATING' AND heartbeat_at < now() - interval '30 seconds')
        OR (status = 'PENDING' AND created_at < now() - interval '5 minutes');

-- Readable by the daemon's role like the other DBA views (0004), for `receptord status`.
GRANT SELECT ON receptord_waiting TO receptord_daemon;
