-- receptord core schema: the SPEC §3 contract.
-- Every constraint is named so that downgrades and humans can refer to it.

CREATE TYPE run_status AS ENUM (
    'PENDING', 'GENERATING', 'COMPLETED', 'INFEASIBLE', 'FAILED', 'CANCELLED'
);

-- ---------------------------------------------------------------- shared

CREATE TABLE allocationruns (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL,
    status      text NOT NULL DEFAULT 'open'
                CONSTRAINT allocationruns_status_check CHECK (status IN ('open', 'closed', 'archived')),
    periodstart date,
    periodend   date,
    created_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT allocationruns_period_check CHECK (periodend IS NULL OR periodstart IS NULL OR periodend >= periodstart)
);

CREATE TABLE workers (
    id    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name  text NOT NULL,
    email text
);

CREATE TABLE qualification_tags (
    id   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CONSTRAINT qualification_tags_name_key UNIQUE
);

CREATE TABLE worker_qualifications (
    worker uuid NOT NULL CONSTRAINT worker_qualifications_worker_fkey REFERENCES workers ON DELETE CASCADE,
    tag    uuid NOT NULL CONSTRAINT worker_qualifications_tag_fkey REFERENCES qualification_tags ON DELETE CASCADE,
    CONSTRAINT worker_qualifications_pkey PRIMARY KEY (worker, tag)
);

CREATE TABLE allocation_run_worker_mappings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run uuid NOT NULL CONSTRAINT arwm_allocation_run_fkey REFERENCES allocationruns ON DELETE CASCADE,
    worker         uuid NOT NULL CONSTRAINT arwm_worker_fkey REFERENCES workers ON DELETE CASCADE,
    CONSTRAINT arwm_run_worker_key UNIQUE (allocation_run, worker)
);
CREATE INDEX arwm_worker_idx ON allocation_run_worker_mappings (worker);

-- The two queue tables. allocation_run(_id) deliberately has no foreign key: a run naming an
-- unknown allocation run must still be accepted, then FAILED with a clear message (SPEC §8),
-- and queue history must survive the deletion of what it solved.
CREATE TABLE allocation_planner_runs (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    createdat             timestamptz NOT NULL DEFAULT now(),
    updatedat             timestamptz NOT NULL DEFAULT now(),
    status                run_status NOT NULL DEFAULT 'PENDING',
    allocation_run        uuid NOT NULL,
    n_job_lines           integer NOT NULL
                          CONSTRAINT apr_n_job_lines_check CHECK (n_job_lines > 0),
    constraints           text[] NOT NULL DEFAULT '{UNRESTRICTED}',
    state                 text NOT NULL DEFAULT 'UNRESTRICTED',
    cohort                text NOT NULL DEFAULT 'ANY',
    term_structure        integer[] NOT NULL DEFAULT '{10,10,10,10,12}',
    leave_weeks           integer NOT NULL DEFAULT 5,
    max_seconds           double precision NOT NULL DEFAULT 60
                          CONSTRAINT apr_max_seconds_check CHECK (max_seconds > 0),
    allow_partial_filling boolean NOT NULL DEFAULT true,
    priority              integer NOT NULL DEFAULT 0,
    claimed_by            text,
    claimed_at            timestamptz,
    heartbeat_at          timestamptz,
    attempts              integer NOT NULL DEFAULT 0,
    max_attempts          integer NOT NULL DEFAULT 3
                          CONSTRAINT apr_max_attempts_check CHECK (max_attempts >= 1),
    completed_at          timestamptz,
    last_error            text,
    progress              jsonb,
    result_metadata       jsonb
);

CREATE TABLE job_lines (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run    uuid NOT NULL CONSTRAINT job_lines_allocation_run_fkey REFERENCES allocationruns ON DELETE CASCADE,
    name              text NOT NULL,
    sort_order        integer NOT NULL DEFAULT 0,
    max_n_workers     integer NOT NULL DEFAULT 1
                      CONSTRAINT job_lines_max_n_workers_check CHECK (max_n_workers >= 0),
    must_have_workers boolean NOT NULL DEFAULT false,
    planner_run       uuid CONSTRAINT job_lines_planner_run_fkey REFERENCES allocation_planner_runs ON DELETE SET NULL
);
CREATE INDEX job_lines_allocation_run_idx ON job_lines (allocation_run, sort_order);
CREATE INDEX job_lines_planner_run_idx ON job_lines (planner_run) WHERE planner_run IS NOT NULL;

CREATE TABLE run_events (
    id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id   uuid NOT NULL,
    run_kind text NOT NULL CONSTRAINT run_events_run_kind_check CHECK (run_kind IN ('allocator', 'planner')),
    -- clock_timestamp, not now(): events of one transaction keep their real order.
    at       timestamptz NOT NULL DEFAULT clock_timestamp(),
    event    text NOT NULL,
    detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX run_events_run_idx ON run_events (run_id, id);
CREATE INDEX run_events_at_idx ON run_events (at);

-- ---------------------------------------------------------------- allocator

CREATE TABLE allocation_run_preferencers (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run uuid NOT NULL CONSTRAINT arp_allocation_run_fkey REFERENCES allocationruns ON DELETE CASCADE,
    name           text NOT NULL,
    max_job_lines  integer CONSTRAINT arp_max_job_lines_check CHECK (max_job_lines >= 0),
    max_workers    integer CONSTRAINT arp_max_workers_check CHECK (max_workers >= 0)
);
CREATE INDEX arp_allocation_run_idx ON allocation_run_preferencers (allocation_run);

CREATE TABLE job_line_preferencers (
    job_line    uuid NOT NULL CONSTRAINT jlp_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    preferencer uuid NOT NULL CONSTRAINT jlp_preferencer_fkey REFERENCES allocation_run_preferencers ON DELETE CASCADE,
    CONSTRAINT job_line_preferencers_pkey PRIMARY KEY (job_line, preferencer)
);
CREATE INDEX jlp_preferencer_idx ON job_line_preferencers (preferencer);

CREATE TABLE preference_worker_job_lines (
    worker_mapping uuid NOT NULL CONSTRAINT pwjl_worker_mapping_fkey REFERENCES allocation_run_worker_mappings ON DELETE CASCADE,
    job_line       uuid NOT NULL CONSTRAINT pwjl_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    rank           numeric NOT NULL CONSTRAINT pwjl_rank_check CHECK (rank > 0),
    CONSTRAINT preference_worker_job_lines_pkey PRIMARY KEY (worker_mapping, job_line)
);
CREATE INDEX pwjl_job_line_idx ON preference_worker_job_lines (job_line);

CREATE TABLE preference_preferencer_workers (
    preferencer    uuid NOT NULL CONSTRAINT ppw_preferencer_fkey REFERENCES allocation_run_preferencers ON DELETE CASCADE,
    worker_mapping uuid NOT NULL CONSTRAINT ppw_worker_mapping_fkey REFERENCES allocation_run_worker_mappings ON DELETE CASCADE,
    rank           numeric NOT NULL CONSTRAINT ppw_rank_check CHECK (rank > 0),
    CONSTRAINT preference_preferencer_workers_pkey PRIMARY KEY (preferencer, worker_mapping)
);
CREATE INDEX ppw_worker_mapping_idx ON preference_preferencer_workers (worker_mapping);

CREATE TABLE allocation_run_preferencer_weightings (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    preferencer    uuid NOT NULL CONSTRAINT arpw_preferencer_fkey REFERENCES allocation_run_preferencers ON DELETE CASCADE,
    worker_mapping uuid NOT NULL CONSTRAINT arpw_worker_mapping_fkey REFERENCES allocation_run_worker_mappings ON DELETE CASCADE,
    job_line       uuid CONSTRAINT arpw_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    weight         numeric NOT NULL,
    CONSTRAINT arpw_unique UNIQUE NULLS NOT DISTINCT (preferencer, worker_mapping, job_line)
);
CREATE INDEX arpw_worker_mapping_idx ON allocation_run_preferencer_weightings (worker_mapping);

CREATE TABLE job_line_eligibility (
    job_line                        uuid PRIMARY KEY CONSTRAINT jle_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    included_worker_mapping_ids     uuid[] NOT NULL DEFAULT '{}',
    excluded_worker_mapping_ids     uuid[] NOT NULL DEFAULT '{}',
    included_qualification_tag_ids  uuid[] NOT NULL DEFAULT '{}',
    excluded_qualification_tag_ids  uuid[] NOT NULL DEFAULT '{}'
);

CREATE FUNCTION get_worker_qualifications(allocation_run uuid)
RETURNS TABLE (worker_mapping uuid, qualification_ids uuid[])
LANGUAGE sql STABLE AS $$
    SELECT m.id,
           coalesce(array_agg(q.tag ORDER BY q.tag) FILTER (WHERE q.tag IS NOT NULL), '{}')
      FROM allocation_run_worker_mappings m
      LEFT JOIN worker_qualifications q ON q.worker = m.worker
     WHERE m.allocation_run = get_worker_qualifications.allocation_run
     GROUP BY m.id
$$;

CREATE TABLE allocator_py_runs (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run_id        uuid NOT NULL,
    included_job_lines       uuid[],
    included_worker_mappings uuid[],
    is_exclusive             boolean NOT NULL DEFAULT false,
    config                   jsonb NOT NULL DEFAULT '{}',
    status                   run_status NOT NULL DEFAULT 'PENDING',
    priority                 integer NOT NULL DEFAULT 0,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    claimed_by               text,
    claimed_at               timestamptz,
    heartbeat_at             timestamptz,
    attempts                 integer NOT NULL DEFAULT 0,
    max_attempts             integer NOT NULL DEFAULT 3
                             CONSTRAINT apy_max_attempts_check CHECK (max_attempts >= 1),
    completed_at             timestamptz,
    last_error               text,
    progress                 jsonb,
    result_metadata          jsonb
);

CREATE TABLE allocator_py_allocations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    run_id          uuid NOT NULL CONSTRAINT apa_run_fkey REFERENCES allocator_py_runs ON DELETE CASCADE,
    worker_mapping  uuid NOT NULL CONSTRAINT apa_worker_mapping_fkey REFERENCES allocation_run_worker_mappings ON DELETE CASCADE,
    job_line        uuid NOT NULL CONSTRAINT apa_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    worker_rank     numeric,
    dissatisfaction double precision NOT NULL,
    CONSTRAINT apa_run_worker_key UNIQUE (run_id, worker_mapping)
);
CREATE INDEX apa_job_line_idx ON allocator_py_allocations (job_line);

-- ---------------------------------------------------------------- planner

CREATE TABLE positions (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run        uuid NOT NULL CONSTRAINT positions_allocation_run_fkey REFERENCES allocationruns ON DELETE CASCADE,
    name                  text NOT NULL,
    parent_specialty      text NOT NULL,
    subspecialty          text,
    experience_categories text[] NOT NULL DEFAULT '{}'
                          CONSTRAINT positions_categories_check CHECK (experience_categories <@ '{A,B,C,D}'),
    is_service_term       boolean NOT NULL DEFAULT false,
    is_nights             boolean NOT NULL DEFAULT false,
    is_rural              boolean NOT NULL DEFAULT false,
    is_non_clinical       boolean NOT NULL DEFAULT false,
    is_team_based         boolean NOT NULL DEFAULT true,
    capacity              integer NOT NULL DEFAULT 1
                          CONSTRAINT positions_capacity_check CHECK (capacity >= 0),
    capacity_by_term      integer[]
                          CONSTRAINT positions_capacity_by_term_check CHECK (0 <= ALL (capacity_by_term)),
    cohorts               text[],
    excludable            boolean NOT NULL DEFAULT false,
    tags                  text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX positions_allocation_run_idx ON positions (allocation_run);

CREATE TABLE rotations (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run uuid NOT NULL CONSTRAINT rotations_allocation_run_fkey REFERENCES allocationruns ON DELETE CASCADE,
    job_line       uuid NOT NULL CONSTRAINT rotations_job_line_fkey REFERENCES job_lines ON DELETE CASCADE,
    position       uuid CONSTRAINT rotations_position_fkey REFERENCES positions ON DELETE CASCADE,
    term_index     integer CONSTRAINT rotations_term_index_check CHECK (term_index >= 0),
    start_week     integer NOT NULL CONSTRAINT rotations_start_week_check CHECK (start_week BETWEEN 1 AND 53),
    length_weeks   integer NOT NULL CONSTRAINT rotations_length_check CHECK (length_weeks > 0),
    kind           text NOT NULL CONSTRAINT rotations_kind_check CHECK (kind IN ('CLINICAL', 'LEAVE')),
    CONSTRAINT rotations_shape_check CHECK (
        (kind = 'CLINICAL' AND position IS NOT NULL AND term_index IS NOT NULL)
        OR (kind = 'LEAVE' AND position IS NULL AND term_index IS NULL))
);
CREATE INDEX rotations_job_line_idx ON rotations (job_line);
CREATE INDEX rotations_position_idx ON rotations (position);

CREATE TABLE job_lines_history (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    allocation_run uuid NOT NULL,
    planner_run    uuid,
    snapshot       jsonb NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_lines_history_run_idx ON job_lines_history (allocation_run, created_at);

CREATE TABLE specialty_affinity (
    specialty_a text NOT NULL,
    specialty_b text NOT NULL,
    weight      integer NOT NULL CONSTRAINT specialty_affinity_weight_check CHECK (weight BETWEEN -100 AND 100),
    CONSTRAINT specialty_affinity_pkey PRIMARY KEY (specialty_a, specialty_b)
);
