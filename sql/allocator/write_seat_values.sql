COPY allocator_py_seat_values (run_id, job_line, one_more_seat, one_fewer_seat, exact) FROM STDIN
