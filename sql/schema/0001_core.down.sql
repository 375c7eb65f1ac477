DROP TABLE specialty_affinity, job_lines_history, rotations, positions,
    allocator_py_allocations, allocator_py_runs, job_line_eligibility,
    allocation_run_preferencer_weightings, preference_preferencer_workers,
    preference_worker_job_lines, job_line_preferencers, allocation_run_preferencers,
    run_events, job_lines, allocation_planner_runs, allocation_run_worker_mappings,
    worker_qualifications, qualification_tags, workers, allocationruns;
DROP FUNCTION get_worker_qualifications(uuid);
DROP TYPE run_status;
