COPY allocator_py_explanations (run_id, worker_mapping, job_line, worker_rank, reason, delta, detail) FROM STDIN
