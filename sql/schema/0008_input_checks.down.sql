ALTER TABLE allocation_planner_runs
    DROP CONSTRAINT apr_max_seconds_bound_check,
    DROP CONSTRAINT apr_term_structure_1d_check,
    DROP CONSTRAINT apr_term_structure_no_nulls_check,
    DROP CONSTRAINT apr_constraints_1d_check,
    DROP CONSTRAINT apr_constraints_no_nulls_check;

ALTER TABLE positions
    DROP CONSTRAINT positions_capacity_by_term_1d_check,
    DROP CONSTRAINT positions_capacity_by_term_no_nulls_check,
    DROP CONSTRAINT positions_cohorts_1d_check,
    DROP CONSTRAINT positions_cohorts_no_nulls_check,
    DROP CONSTRAINT positions_experience_categories_1d_check,
    DROP CONSTRAINT positions_experience_categories_no_nulls_check,
    DROP CONSTRAINT positions_tags_1d_check,
    DROP CONSTRAINT positions_tags_no_nulls_check;
