-- A generated line as a readable row: its positions term by term, and its leave weeks.
SELECT j.name,
       string_agg(p.name, ' | ' ORDER BY r.term_index) FILTER (WHERE r.kind = 'CLINICAL') AS terms,
       string_agg('wk ' || r.start_week || '+' || r.length_weeks, ', ' ORDER BY r.start_week)
           FILTER (WHERE r.kind = 'LEAVE') AS leave
  FROM job_lines j
  JOIN rotations r ON r.job_line = j.id
  LEFT JOIN positions p ON p.id = r.position
 WHERE j.planner_run = %(run)s
 GROUP BY j.id, j.name, j.sort_order
 ORDER BY j.sort_order
