-- A run's seat values, most valuable extra seat first (workers it would place, then cost).
SELECT job_line, one_more_seat, one_fewer_seat, exact, one_more_seat_places, one_fewer_seat_leaves_out
  FROM allocator_py_seat_values
 WHERE run_id = %(run)s
 ORDER BY one_more_seat_places DESC, one_more_seat DESC, job_line
