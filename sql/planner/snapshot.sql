-- Keep the lines an earlier planner run generated (with their rotations) before replacing them.
INSERT INTO job_lines_history (allocation_run, planner_run, snapshot)
SELECT %(allocation_run)s, %(run)s, jsonb_build_object(
           'replaced_at', now(),
           'lines', coalesce(jsonb_agg(jsonb_build_object(
               'id', j.id, 'name', j.name, 'sort_order', j.sort_order, 'planner_run', j.planner_run,
               'max_n_workers', j.max_n_workers, 'must_have_workers', j.must_have_workers, 'pathway', j.pathway,
               'rotations', (SELECT coalesce(jsonb_agg(jsonb_build_object(
                                 'position', r.position, 'term_index', r.term_index, 'start_week', r.start_week,
                                 'length_weeks', r.length_weeks, 'kind', r.kind) ORDER BY r.start_week, r.kind), '[]')
                               FROM rotations r WHERE r.job_line = j.id))
               ORDER BY j.sort_order), '[]'))
  FROM job_lines j
 WHERE j.allocation_run = %(allocation_run)s AND j.planner_run IS NOT NULL
HAVING count(*) > 0
