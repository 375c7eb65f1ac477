-- The daemon writes results only in a run's finishing transaction, while the run is still
-- GENERATING (the status changes last, in the same transaction). So a member of
-- receptord_daemon may add allocations, explanations and seat values only to a GENERATING
-- allocator run, and a history snapshot only for a GENERATING planner run: no result can be
-- slipped into a finished run. Clients, the owner and superusers are not restricted.
--
-- Statement triggers over the inserted rows (a transition table), not row triggers: the
-- results arrive by COPY in the hundreds of thousands, and one check per statement costs one
-- join over the distinct runs named, not an index lookup per row.

CREATE FUNCTION receptord_results_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    refused text;
BEGIN
    IF pg_catalog.pg_has_role('receptord_daemon', 'USAGE')
       AND NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        SELECT pg_catalog.string_agg(DISTINCT a.run_id::text, ', ') INTO refused
          FROM added a
          LEFT JOIN public.allocator_py_runs r ON r.id = a.run_id
         WHERE r.status IS DISTINCT FROM 'GENERATING';
        IF refused IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = pg_catalog.format('receptord_daemon may add %s only to a running allocator run', TG_TABLE_NAME),
                DETAIL = pg_catalog.format('allocator run %s is not GENERATING', pg_catalog.left(refused, 400));
        END IF;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION receptord_history_guard() RETURNS trigger
LANGUAGE plpgsql
SET search_path = pg_catalog, public, pg_temp
AS $$
DECLARE
    refused text;
BEGIN
    IF pg_catalog.pg_has_role('receptord_daemon', 'USAGE')
       AND NOT pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c WHERE c.oid = TG_RELID), 'USAGE') THEN
        SELECT pg_catalog.string_agg(DISTINCT coalesce(a.planner_run::text, 'NULL'), ', ') INTO refused
          FROM added a
          LEFT JOIN public.allocation_planner_runs p ON p.id = a.planner_run AND p.allocation_run = a.allocation_run
         WHERE p.status IS DISTINCT FROM 'GENERATING';
        IF refused IS NOT NULL THEN
            RAISE EXCEPTION USING
                ERRCODE = 'insufficient_privilege',
                MESSAGE = 'receptord_daemon may add job_lines_history only for a running planner run of the same allocation run',
                DETAIL = pg_catalog.format('planner run %s', pg_catalog.left(refused, 400));
        END IF;
    END IF;
    RETURN NULL;
END $$;

REVOKE ALL ON FUNCTION receptord_results_guard(), receptord_history_guard() FROM PUBLIC;

CREATE TRIGGER allocator_py_allocations_daemon_guard AFTER INSERT ON allocator_py_allocations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION receptord_results_guard();
CREATE TRIGGER allocator_py_explanations_daemon_guard AFTER INSERT ON allocator_py_explanations
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION receptord_results_guard();
CREATE TRIGGER allocator_py_seat_values_daemon_guard AFTER INSERT ON allocator_py_seat_values
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION receptord_results_guard();
CREATE TRIGGER job_lines_history_daemon_guard AFTER INSERT ON job_lines_history
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION receptord_history_guard();
