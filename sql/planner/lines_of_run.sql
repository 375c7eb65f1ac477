-- The lines a planner run wrote, with their rotations, for exports.
SELECT j.name, j.sort_order, j.pathway, r.kind, r.start_week, r.length_weeks, r.position, r.term_index
  FROM job_lines j
  JOIN rotations r ON r.job_line = j.id
 WHERE j.planner_run = %(run)s
 ORDER BY j.sort_order, r.start_week, r.kind
