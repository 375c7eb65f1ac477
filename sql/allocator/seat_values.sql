-- A run's seat values, most valuable extra seat first.
SELECT job_line, one_more_seat, one_fewer_seat, exact
  FROM allocator_py_seat_values
 WHERE run_id = %(run)s
 ORDER BY one_more_seat DESC, job_line
