-- Each line's supervisor, in the order of the lines passed (one supervisor per line).
SELECT lp.preferencer
  FROM unnest(%(lines)s::uuid[]) WITH ORDINALITY AS l(id, ord)
  JOIN job_line_preferencers lp ON lp.job_line = l.id
 ORDER BY l.ord
