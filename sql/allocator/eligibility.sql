SELECT job_line, included_worker_mapping_ids, excluded_worker_mapping_ids,
       included_qualification_tag_ids, excluded_qualification_tag_ids
  FROM job_line_eligibility
 WHERE job_line = ANY (%(lines)s::uuid[])
 ORDER BY job_line
