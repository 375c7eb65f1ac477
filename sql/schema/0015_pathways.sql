-- Targeted pathways (SPEC §5, issue 12): a planner run may reserve lines for a priority cohort.
-- A jsonb list on the run rather than a table: a pathway is part of the run's request, read and
-- written with it (and with its workbook), never shared between runs. Each element is
--   {"name": "GP", "lines": 10, "specialties": ["Paediatrics", "O&G"], "min_terms": 1,
--    "mode": "exact", "distinct": false}
-- (min_terms 1 and distinct false by default). The database checks only that it is a list; the
-- daemon validates the rest (daemon/planner/pathways.py) and fails the run naming the pathway
-- and the field, as it does for the run's other columns.
ALTER TABLE allocation_planner_runs ADD COLUMN pathways jsonb NOT NULL DEFAULT '[]'
    CONSTRAINT apr_pathways_list_check CHECK (jsonb_typeof(pathways) = 'array');
COMMENT ON COLUMN allocation_planner_runs.pathways IS
    'lines reserved for priority cohorts, built first: [{name, lines, specialties, min_terms, mode '
    '(exact|soft), distinct}]';

-- The pathway a generated line is reserved for (its name), NULL for the general pool: an
-- allocation restricts such lines to the cohort's workers through job_line_eligibility.
ALTER TABLE job_lines ADD COLUMN pathway text;
COMMENT ON COLUMN job_lines.pathway IS 'the planner pathway the line is reserved for; NULL: the general pool';
