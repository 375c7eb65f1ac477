-- The database refuses what the daemon can only reject later (SPEC §8, issue 9):
--
--   allocation_planner_runs.max_seconds   finite and at most a day. max_seconds > 0 let NaN
--       (PostgreSQL orders NaN above every number) and Infinity through, and either meant a
--       solve with no deadline. max_seconds <= 86400 refuses both as well.
--   array columns the planner reads        one-dimensional, without NULL entries:
--       allocation_planner_runs.term_structure, .constraints; positions.capacity_by_term,
--       .cohorts, .experience_categories, .tags. An empty array ('{}') and a NULL column
--       (capacity_by_term, cohorts) remain allowed.
--
-- Two checks per array column, so the error names the fault: "_1d_check" (array_ndims is NULL
-- for '{}', which passes) and "_no_nulls_check". array_position cannot search a
-- multi-dimensional array (it raises an error), so the second check leaves those to the first;
-- NULL = ANY (col) would not do, as it is NULL, never true, and a NULL check passes.
--
-- Existing rows are checked when the constraints are added: a database holding rows that break
-- them fails this migration, naming the constraint, and those rows must be fixed first, e.g.
--   SELECT id, max_seconds FROM allocation_planner_runs WHERE NOT max_seconds <= 86400;
--   SELECT id, name, cohorts FROM positions WHERE array_position(cohorts, NULL) IS NOT NULL;
-- The daemon keeps its own checks of the same values (rows written before this migration, the
-- offline XLSX path).

ALTER TABLE allocation_planner_runs
    ADD CONSTRAINT apr_max_seconds_bound_check CHECK (max_seconds <= 86400),
    ADD CONSTRAINT apr_term_structure_1d_check CHECK (array_ndims(term_structure) = 1),
    ADD CONSTRAINT apr_term_structure_no_nulls_check CHECK (
        CASE WHEN array_ndims(term_structure) = 1 THEN array_position(term_structure, NULL) IS NULL ELSE true END),
    ADD CONSTRAINT apr_constraints_1d_check CHECK (array_ndims(constraints) = 1),
    ADD CONSTRAINT apr_constraints_no_nulls_check CHECK (
        CASE WHEN array_ndims(constraints) = 1 THEN array_position(constraints, NULL) IS NULL ELSE true END);

ALTER TABLE positions
    ADD CONSTRAINT positions_capacity_by_term_1d_check CHECK (array_ndims(capacity_by_term) = 1),
    ADD CONSTRAINT positions_capacity_by_term_no_nulls_check CHECK (
        CASE WHEN array_ndims(capacity_by_term) = 1 THEN array_position(capacity_by_term, NULL) IS NULL ELSE true END),
    ADD CONSTRAINT positions_cohorts_1d_check CHECK (array_ndims(cohorts) = 1),
    ADD CONSTRAINT positions_cohorts_no_nulls_check CHECK (
        CASE WHEN array_ndims(cohorts) = 1 THEN array_position(cohorts, NULL) IS NULL ELSE true END),
    ADD CONSTRAINT positions_experience_categories_1d_check CHECK (array_ndims(experience_categories) = 1),
    ADD CONSTRAINT positions_experience_categories_no_nulls_check CHECK (
        CASE WHEN array_ndims(experience_categories) = 1
             THEN array_position(experience_categories, NULL) IS NULL ELSE true END),
    ADD CONSTRAINT positions_tags_1d_check CHECK (array_ndims(tags) = 1),
    ADD CONSTRAINT positions_tags_no_nulls_check CHECK (
        CASE WHEN array_ndims(tags) = 1 THEN array_position(tags, NULL) IS NULL ELSE true END);
