ALTER TABLE job_lines DROP COLUMN pathway;
ALTER TABLE allocation_planner_runs DROP COLUMN pathways;
