SELECT lp.job_line, lp.preferencer
  FROM job_line_preferencers lp
 WHERE lp.job_line = ANY (%(lines)s::uuid[])
 ORDER BY lp.job_line, lp.preferencer
