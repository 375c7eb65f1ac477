COPY rotations (allocation_run, job_line, position, term_index, start_week, length_weeks, kind) FROM STDIN
