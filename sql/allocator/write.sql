COPY allocator_py_allocations (run_id, worker_mapping, job_line, worker_rank, dissatisfaction) FROM STDIN
