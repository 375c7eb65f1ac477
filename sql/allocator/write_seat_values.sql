COPY allocator_py_seat_values (run_id, job_line, one_more_seat, one_fewer_seat, exact,
                               one_more_seat_places, one_fewer_seat_leaves_out) FROM STDIN
